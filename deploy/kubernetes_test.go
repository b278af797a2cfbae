package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

type k8sProbe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"` // a number or a container port's name
	} `yaml:"httpGet"`
	GRPC *struct {
		Port    int     `yaml:"port"`
		Service *string `yaml:"service"`
	} `yaml:"grpc"`
	InitialDelaySeconds int `yaml:"initialDelaySeconds"`
	PeriodSeconds       int `yaml:"periodSeconds"`
	TimeoutSeconds      int `yaml:"timeoutSeconds"`
	FailureThreshold    int `yaml:"failureThreshold"`
}

type k8sContainer struct {
	Name            string   `yaml:"name"`
	Image           string   `yaml:"image"`
	ImagePullPolicy string   `yaml:"imagePullPolicy"`
	Args            []string `yaml:"args"`
	Env             []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
	StartupProbe   *k8sProbe `yaml:"startupProbe"`
	LivenessProbe  *k8sProbe `yaml:"livenessProbe"`
	ReadinessProbe *k8sProbe `yaml:"readinessProbe"`
}

type k8sMeta struct {
	Name        string            `yaml:"name"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type k8sStatefulSet struct {
	APIVersion string  `yaml:"apiVersion"`
	Kind       string  `yaml:"kind"`
	Metadata   k8sMeta `yaml:"metadata"`
	Spec       struct {
		ServiceName string `yaml:"serviceName"`
		Replicas    int    `yaml:"replicas"`
		Selector    struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata k8sMeta `yaml:"metadata"`
			Spec     struct {
				SecurityContext struct {
					RunAsNonRoot        bool   `yaml:"runAsNonRoot"`
					RunAsUser           int    `yaml:"runAsUser"`
					RunAsGroup          int    `yaml:"runAsGroup"`
					FSGroup             int    `yaml:"fsGroup"`
					FSGroupChangePolicy string `yaml:"fsGroupChangePolicy"`
					SeccompProfile      struct {
						Type string `yaml:"type"`
					} `yaml:"seccompProfile"`
				} `yaml:"securityContext"`
				TerminationGracePeriodSeconds int            `yaml:"terminationGracePeriodSeconds"`
				Containers                    []k8sContainer `yaml:"containers"`
				Volumes                       []struct {
					Name     string `yaml:"name"`
					EmptyDir *struct {
						SizeLimit string `yaml:"sizeLimit"`
					} `yaml:"emptyDir"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
		VolumeClaimTemplates []struct {
			Metadata k8sMeta `yaml:"metadata"`
			Spec     struct {
				AccessModes []string `yaml:"accessModes"`
				Resources   struct {
					Requests map[string]string `yaml:"requests"`
				} `yaml:"resources"`
			} `yaml:"spec"`
		} `yaml:"volumeClaimTemplates"`
	} `yaml:"spec"`
}

type k8sService struct {
	APIVersion string  `yaml:"apiVersion"`
	Kind       string  `yaml:"kind"`
	Metadata   k8sMeta `yaml:"metadata"`
	Spec       struct {
		Type                     string            `yaml:"type"`
		ClusterIP                string            `yaml:"clusterIP"`
		PublishNotReadyAddresses bool              `yaml:"publishNotReadyAddresses"`
		Selector                 map[string]string `yaml:"selector"`
		Ports                    []struct {
			Name        string `yaml:"name"`
			Port        int    `yaml:"port"`
			TargetPort  any    `yaml:"targetPort"`
			AppProtocol string `yaml:"appProtocol"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

// readManifests decodes the manifests kustomization.yaml lists, strictly
// (a misspelt field fails), by kind.
func readManifests(t *testing.T) (sts []k8sStatefulSet, svcs []k8sService) {
	t.Helper()
	var k struct {
		APIVersion string   `yaml:"apiVersion"`
		Kind       string   `yaml:"kind"`
		Resources  []string `yaml:"resources"`
	}
	readYAMLStrict(t, "kubernetes/kustomization.yaml", &k)
	files, _ := filepath.Glob("kubernetes/*.yaml")
	for _, f := range files {
		if base := filepath.Base(f); base != "kustomization.yaml" && !slices.Contains(k.Resources, base) {
			t.Errorf("kustomization.yaml leaves out %s", base)
		}
	}
	for _, r := range k.Resources {
		path := filepath.Join("kubernetes", r)
		for i, doc := range readYAMLDocs(t, path) {
			b, err := yaml.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			var into any
			switch doc["kind"] {
			case "StatefulSet":
				sts = append(sts, k8sStatefulSet{})
				into = &sts[len(sts)-1]
			case "Service":
				svcs = append(svcs, k8sService{})
				into = &svcs[len(svcs)-1]
			default:
				t.Fatalf("%s document %d: kind %v", path, i, doc["kind"])
			}
			dec := yaml.NewDecoder(strings.NewReader(string(b)))
			dec.KnownFields(true)
			if err := dec.Decode(into); err != nil {
				t.Fatalf("%s document %d: %v", path, i, err)
			}
		}
	}
	return sts, svcs
}

// quantity reads a Kubernetes memory quantity with a binary suffix.
func quantity(t *testing.T, s string) int64 {
	t.Helper()
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("quantity %q: %v", s, err)
			}
			return n * u.mult
		}
	}
	t.Fatalf("quantity %q: want Ki, Mi, Gi or Ti", s)
	return 0
}

// TestKubernetes checks the manifests against the image (user, ports,
// storage path) and each other (selectors, port names, the claim), then
// sends every probe to a real server, as the kubelet would.
func TestKubernetes(t *testing.T) {
	sts, svcs := readManifests(t)
	if len(sts) != 1 {
		t.Fatalf("%d StatefulSets, want 1", len(sts))
	}
	s := sts[0]
	d := readDockerfile(t)
	pod := &s.Spec.Template.Spec
	if s.Spec.Replicas != 1 {
		t.Errorf("replicas %d: qlite is a single node", s.Spec.Replicas)
	}
	for k, v := range s.Spec.Selector.MatchLabels {
		if s.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("the selector's %s=%s is not a label of the pod template", k, v)
		}
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]

	// The image's user, non-root, and a read-only root file system with
	// the storage and /tmp mounted.
	uid, _, _ := strings.Cut(d.user, ":")
	if sc := pod.SecurityContext; !sc.RunAsNonRoot || strconv.Itoa(sc.RunAsUser) != uid || strconv.Itoa(sc.FSGroup) == "0" {
		t.Errorf("pod securityContext %+v: want runAsNonRoot, runAsUser %s (the image's) and an fsGroup", sc, uid)
	}
	if sc := c.SecurityContext; !sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("container securityContext %+v", sc)
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	storagePath := d.volumes[0]
	for _, e := range c.Env {
		if e.Name == "QDRANT__STORAGE__STORAGE_PATH" {
			storagePath = e.Value
		}
	}
	claim := mounts[storagePath]
	if len(s.Spec.VolumeClaimTemplates) != 1 || claim == "" || s.Spec.VolumeClaimTemplates[0].Metadata.Name != claim {
		t.Errorf("the storage %s is not mounted from the volume claim template (mounts %v)", storagePath, mounts)
	} else if vc := s.Spec.VolumeClaimTemplates[0].Spec; vc.Resources.Requests["storage"] == "" || len(vc.AccessModes) == 0 {
		t.Errorf("volume claim %+v", vc)
	}
	if mounts["/tmp"] == "" {
		t.Error("no /tmp mounted on the read-only root file system")
	}
	for path, name := range mounts {
		found := name == claim
		for _, v := range pod.Volumes {
			found = found || v.Name == name
		}
		if !found {
			t.Errorf("%s mounts volume %s, not declared", path, name)
		}
	}

	// Resources, and the Go heap's soft limit under the memory limit.
	limit := c.Resources.Limits["memory"]
	if c.Resources.Requests["memory"] == "" || c.Resources.Requests["cpu"] == "" || limit == "" {
		t.Errorf("resources %+v: want requests of cpu and memory and a memory limit", c.Resources)
	}
	if v := flag(c.Args, "memory-limit"); v != "" {
		if soft, hard := quantity(t, strings.TrimSuffix(v, "B")), quantity(t, limit); soft >= hard || soft < hard*8/10 {
			t.Errorf("--memory-limit=%s: want 80%% to 100%% of the memory limit %s", v, limit)
		}
	}
	if len(c.Args) == 0 || c.Args[0] != "serve" {
		t.Errorf("args %v: want serve", c.Args)
	}

	// Ports: the image's, named for the probes and the services.
	ports := map[string]int{}
	var exposed []string
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
		exposed = append(exposed, strconv.Itoa(p.ContainerPort))
	}
	if !slices.Equal(exposed, d.expose) || ports["http"] != 6333 || ports["grpc"] != 6334 {
		t.Errorf("container ports %v, want http 6333 and grpc 6334 as the image exposes %v", ports, d.expose)
	}
	resolve := func(p any) int {
		switch v := p.(type) {
		case int:
			return v
		case string:
			if n, ok := ports[v]; ok {
				return n
			}
		}
		t.Errorf("port %v names no container port", p)
		return 0
	}
	headless := false
	for _, svc := range svcs {
		for k, v := range svc.Spec.Selector {
			if s.Spec.Template.Metadata.Labels[k] != v {
				t.Errorf("service %s selects %s=%s, not a label of the pod", svc.Metadata.Name, k, v)
			}
		}
		var sp []int
		for _, p := range svc.Spec.Ports {
			sp = append(sp, p.Port)
			if p.Port != resolve(p.TargetPort) {
				t.Errorf("service %s maps port %d to %d", svc.Metadata.Name, p.Port, resolve(p.TargetPort))
			}
		}
		if !slices.Equal(sp, []int{6333, 6334}) {
			t.Errorf("service %s ports %v, want 6333 and 6334", svc.Metadata.Name, sp)
		}
		if svc.Metadata.Name == s.Spec.ServiceName {
			headless = svc.Spec.ClusterIP == "None"
		}
	}
	if !headless {
		t.Errorf("serviceName %s is not a headless service", s.Spec.ServiceName)
	}

	// The probes: liveness on /livez, readiness on /readyz, a startup probe,
	// a gRPC probe on the gRPC port; each waits longer than a health check
	// may take (5 s), and each answers from a real server.
	if p := c.LivenessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/livez" {
		t.Errorf("liveness probe %+v: want GET /livez", p)
	}
	if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" {
		t.Errorf("readiness probe %+v: want GET /readyz", p)
	}
	if c.StartupProbe == nil {
		t.Error("no startup probe")
	}
	srv := startServer(t)
	grpcProbes := 0
	for name, p := range map[string]*k8sProbe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil {
			continue
		}
		// Unset, the timeout is 1 s.
		if p.TimeoutSeconds <= 5 {
			t.Errorf("%s probe times out after %d s, before qlite's health check may (5 s)", name, max(p.TimeoutSeconds, 1))
		}
		switch {
		case p.HTTPGet != nil:
			if n := resolve(p.HTTPGet.Port); n != 6333 {
				t.Errorf("%s probe GETs port %d, not the REST port", name, n)
				continue
			}
			resp, err := http.Get("http://" + srv.http + p.HTTPGet.Path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s probe: GET %s: %s", name, p.HTTPGet.Path, resp.Status)
			}
		case p.GRPC != nil:
			grpcProbes++
			if p.GRPC.Port != ports["grpc"] {
				t.Errorf("%s probe calls port %d, not the gRPC port", name, p.GRPC.Port)
				continue
			}
			service := ""
			if p.GRPC.Service != nil {
				service = *p.GRPC.Service
			}
			if st, err := grpcHealth(srv.grpc, service); err != nil || st != healthpb.HealthCheckResponse_SERVING {
				t.Errorf("%s probe: grpc.health.v1 Check(%q): %v %v", name, service, st, err)
			}
		default:
			t.Errorf("%s probe is neither httpGet nor grpc", name)
		}
	}
	if grpcProbes == 0 {
		t.Error("no gRPC health probe")
	}
	t.Log("kubeconform and a Kubernetes API server are not available here: the manifests are checked against the fields these tests know, not the Kubernetes schema")
}

// grpcHealth calls grpc.health.v1.Health/Check as the kubelet's gRPC probe
// does.
func grpcHealth(addr, service string) (healthpb.HealthCheckResponse_ServingStatus, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		return 0, fmt.Errorf("check: %w", err)
	}
	return resp.GetStatus(), nil
}

// TestKustomize builds the manifests with kubectl kustomize (no cluster
// needed), as kubectl apply -k does, and checks it yields the objects the
// files hold.
func TestKustomize(t *testing.T) {
	bin, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed: kubernetes/kustomization.yaml not built")
	}
	out, err := exec.Command(bin, "kustomize", "kubernetes").Output()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v", err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(out)))
	var got []string
	for {
		var o struct {
			Kind     string  `yaml:"kind"`
			Metadata k8sMeta `yaml:"metadata"`
		}
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("kubectl kustomize's output: %v", err)
		}
		got = append(got, o.Kind+"/"+o.Metadata.Name)
	}
	sts, svcs := readManifests(t)
	var want []string
	for _, s := range sts {
		want = append(want, s.Kind+"/"+s.Metadata.Name)
	}
	for _, s := range svcs {
		want = append(want, s.Kind+"/"+s.Metadata.Name)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("kubectl kustomize yields %v, the files hold %v", got, want)
	}
}
