package compat

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// The process_* metrics of Qdrant read the proc filesystem; where it is
// missing (not Linux) they are left out, as Qdrant leaves them out.

// procField returns the value of the line of file that starts with key,
// e.g. "Threads:" in /proc/self/status.
func procField(file, key string) (string, bool) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key); ok {
			return strings.TrimSpace(rest), true
		}
	}
	return "", false
}

// residentBytes returns the process's resident set size.
func residentBytes() (float64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return float64(pages) * float64(os.Getpagesize()), true
}

// pageFaults returns the minor and major page faults of the process, from
// /proc/self/stat (fields 10 and 12, after the parenthesised name).
func pageFaults() (minor, major float64, ok bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): field n is f[n-3].
	if len(f) < 10 {
		return 0, 0, false
	}
	mi, err1 := strconv.ParseUint(f[7], 10, 64)
	ma, err2 := strconv.ParseUint(f[9], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return float64(mi), float64(ma), true
}

// writeProcess writes Qdrant's process_* and system_max_mmaps metrics.
func writeProcess(p *promWriter) {
	if v, ok := procField("/proc/self/status", "Threads:"); ok {
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			p.gauge("process_threads", "count of active threads", float64(n))
		}
	}
	if b, err := os.ReadFile("/proc/self/maps"); err == nil {
		p.gauge("process_open_mmaps", "count of open mmaps", float64(bytes.Count(b, []byte{'\n'})))
	}
	if b, err := os.ReadFile("/proc/sys/vm/max_map_count"); err == nil {
		if n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil {
			p.gauge("system_max_mmaps", "system wide limit of open mmaps", float64(n))
		}
	}
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		p.gauge("process_open_fds", "count of currently open file descriptors", float64(len(ents)))
	}
	if v, ok := procField("/proc/self/limits", "Max open files"); ok {
		if f := strings.Fields(v); len(f) > 0 {
			if n, err := strconv.ParseUint(f[0], 10, 64); err == nil {
				p.gauge("process_max_fds", "limit for open file descriptors", float64(n))
			}
		}
	}
	if mi, ma, ok := pageFaults(); ok {
		p.family("process_minor_page_faults_total", "counter", "count of minor page faults which didn't cause a disk access")
		p.lbl = p.lbl[:0]
		p.sample("process_minor_page_faults_total", "", mi)
		p.family("process_major_page_faults_total", "counter", "count of disk accesses caused by a mmap page fault")
		p.sample("process_major_page_faults_total", "", ma)
	}
}
