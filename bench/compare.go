package bench

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
)

// CompareRecalls are the recall levels Compare reports QPS at.
var CompareRecalls = []float64{0.90, 0.95, 0.99}

// FilteredRecall is the recall at which Compare reports filtered QPS.
const FilteredRecall = 0.95

// FilteredGoal is the ratio of filtered to unfiltered QPS at recall
// FilteredRecall that every selectivity should reach when the payload
// fields are indexed.
const FilteredGoal = 0.5

// QPSAtRecall interpolates the QPS a recall/QPS curve reaches at the given
// recall. The curve is reduced to its Pareto frontier (points no other point
// beats in both recall and QPS), sorted by recall, and interpolated linearly
// between the two points around recall. ok is false when no point reaches
// recall. When every point is above recall, the fastest point's QPS is
// returned with atLeast set: the curve is at least that fast there.
func QPSAtRecall(runs []Measurement, recall float64) (qps float64, ok, atLeast bool) {
	front := paretoFront(runs)
	if len(front) == 0 || front[len(front)-1].Recall < recall {
		return 0, false, false
	}
	if front[0].Recall > recall {
		return front[0].QPS, true, true
	}
	for i, p := range front {
		if p.Recall < recall {
			continue
		}
		if p.Recall == recall || i == 0 {
			return p.QPS, true, false
		}
		lo := front[i-1]
		t := (recall - lo.Recall) / (p.Recall - lo.Recall)
		return lo.QPS + t*(p.QPS-lo.QPS), true, false
	}
	panic("bench: BUG: recall beyond the frontier")
}

// paretoFront returns the points of runs not dominated in (recall, QPS),
// sorted by increasing recall (and so decreasing QPS).
func paretoFront(runs []Measurement) []Measurement {
	pts := slices.Clone(runs)
	// Highest recall first, ties by highest QPS; then keep each point
	// faster than every point of higher recall.
	slices.SortFunc(pts, func(a, b Measurement) int {
		switch {
		case a.Recall != b.Recall:
			if a.Recall > b.Recall {
				return -1
			}
			return 1
		case a.QPS != b.QPS:
			if a.QPS > b.QPS {
				return -1
			}
			return 1
		}
		return 0
	})
	var front []Measurement
	for _, p := range pts {
		if len(front) == 0 || p.QPS > front[len(front)-1].QPS {
			front = append(front, p)
		}
	}
	slices.Reverse(front)
	return front
}

// Compare reads result files and prints, for each recall level of
// CompareRecalls, every file's QPS at that recall (interpolated) and its
// ratio to the first file, then build time, graph memory and peak RSS with
// their ratios. The first table uses the unfiltered runs only. When files
// hold filtered runs, a further table gives, per filter (selectivity), each
// file's QPS at recall FilteredRecall, its ratio to the first file's at
// the same filter, the file's own unfiltered QPS at that recall and the
// ratio filtered/unfiltered, against the goal FilteredGoal.
func Compare(w io.Writer, files []string) error {
	if len(files) == 0 {
		return fmt.Errorf("bench: compare: no result files")
	}
	results := make([]*Result, len(files))
	for i, f := range files {
		r, err := ReadResult(f)
		if err != nil {
			return err
		}
		results[i] = r
	}
	return writeComparison(w, files, results)
}

func writeComparison(w io.Writer, files []string, results []*Result) error {
	bw := bufio.NewWriter(w)
	first := results[0]
	var notes []string
	for i, r := range results[1:] {
		if r.Dataset != first.Dataset || r.Params.K != first.Params.K || r.Points != first.Points || r.Metric != first.Metric {
			notes = append(notes, fmt.Sprintf("warning: %s is %s k=%d (%d points), the first file %s k=%d (%d points)",
				files[i+1], r.Dataset, r.Params.K, r.Points, first.Dataset, first.Params.K, first.Points))
		}
	}
	fmt.Fprintf(bw, "%s, %d points, %s, k=%d, %d queries\n", first.Dataset, first.Points, first.Metric, first.Params.K, first.Queries)
	for _, n := range notes {
		fmt.Fprintln(bw, n)
	}
	fmt.Fprintln(bw)

	label := func(i int) (string, string) {
		r := results[i]
		return r.Target, filepath.Base(files[i])
	}

	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{"target", "file", "mode"}
	for _, rec := range CompareRecalls {
		head = append(head, fmt.Sprintf("qps@%.2f", rec), "ratio")
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	base := make([]float64, len(CompareRecalls))
	for j, rec := range CompareRecalls {
		base[j], _, _ = QPSAtRecall(unfilteredRuns(first.Runs), rec)
	}
	for i, r := range results {
		t, f := label(i)
		row := []string{t, f, r.QueryMode}
		row, _ = qpsRow(row, unfilteredRuns(r.Runs), base)
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	tw.Flush()
	fmt.Fprintln(bw)

	tw = tabwriter.NewWriter(bw, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tfile\tthreads\tbuild_s\tratio\tbuild_cpu_s\tgraph_MiB\tratio\trss_MiB\tratio\t")
	for i, r := range results {
		t, f := label(i)
		cpu := "n/a"
		if r.BuildCPUSeconds > 0 {
			cpu = fmt.Sprintf("%.2f", r.BuildCPUSeconds)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%s\t%s\t%.1f\t%s\t%.1f\t%s\t\n", t, f, r.Params.Threads,
			r.BuildSeconds, ratio(r.BuildSeconds, first.BuildSeconds), cpu,
			float64(r.GraphBytes)/(1<<20), ratio(float64(r.GraphBytes), float64(first.GraphBytes)),
			float64(r.RSSBytes)/(1<<20), ratio(float64(r.RSSBytes), float64(first.RSSBytes)))
	}
	tw.Flush()
	writeServerComparison(bw, files, results)
	filtered := writeFilteredComparison(bw, files, results)
	fmt.Fprintln(bw, "\nratio = value / first file's value; >= marks a curve whose every point is above that recall;")
	fmt.Fprintln(bw, "build_cpu_s well under build_s x threads means other work shared the CPUs.")
	if filtered {
		fmt.Fprintf(bw, "filt/unf = filtered qps@%.2f / the same file's unfiltered qps@%.2f; goal: >= %.1fx with payload indexes.\n",
			FilteredRecall, FilteredRecall, FilteredGoal)
	}
	return bw.Flush()
}

// qpsRow appends to row the QPS runs reach at each recall of
// CompareRecalls with its ratio to base (none when base is nil), and
// returns the row and the QPS.
func qpsRow(row []string, runs []Measurement, base []float64) ([]string, []float64) {
	qps := make([]float64, len(CompareRecalls))
	for j, rec := range CompareRecalls {
		q, ok, atLeast := QPSAtRecall(runs, rec)
		qps[j] = q
		if !ok {
			row = append(row, "n/a", "")
			continue
		}
		s := fmt.Sprintf("%.0f", q)
		if atLeast {
			s = ">=" + s
		}
		b := q
		if base != nil {
			b = base[j]
		}
		row = append(row, s, ratio(q, b))
	}
	return row, qps
}

// writeServerComparison prints, when any result has them, the QPS at each
// recall of CompareRecalls with concurrent workers, and the figures of the
// servers the runs started: upload, CPU, memory and disk.
func writeServerComparison(w io.Writer, files []string, results []*Result) {
	if slices.ContainsFunc(results, func(r *Result) bool { return len(r.RunsConcurrent) > 0 }) {
		var base []float64
		fmt.Fprintf(w, "\nconcurrent query workers\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		head := []string{"target", "file", "workers"}
		for _, rec := range CompareRecalls {
			head = append(head, fmt.Sprintf("qps@%.2f", rec), "ratio")
		}
		fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
		for i, r := range results {
			if len(r.RunsConcurrent) == 0 {
				continue
			}
			row := []string{r.Target, filepath.Base(files[i]), fmt.Sprint(r.Params.Concurrency)}
			var qps []float64
			row, qps = qpsRow(row, r.RunsConcurrent, base)
			if base == nil {
				base = qps
			}
			fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
		}
		tw.Flush()
	}
	var first *Result
	for _, r := range results {
		if r.Server == nil {
			continue
		}
		if first == nil {
			first = r
			fmt.Fprintf(w, "\nservers (each a fresh process; peak RSS and CPU are the server process's)\n")
		}
	}
	if first == nil {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tfile\tserver\tgreen_s\tratio\tbuild_cpu_s\tpeak_rss_MiB\tratio\tdisk_MiB\tratio\tcpu_us/query\tratio\tconcurrent\tratio\t")
	fs := first.Server
	for i, r := range results {
		sf := r.Server
		if sf == nil {
			continue
		}
		name := sf.Name
		if sf.InProcess {
			name += " (in process)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%s\t%.1f\t%.1f\t%s\t%.1f\t%s\t%.0f\t%s\t%.0f\t%s\t\n",
			r.Target, filepath.Base(files[i]), name,
			r.BuildSeconds, ratio(r.BuildSeconds, first.BuildSeconds), sf.BuildCPUSeconds,
			float64(sf.PeakRSSBytes)/(1<<20), ratio(float64(sf.PeakRSSBytes), float64(fs.PeakRSSBytes)),
			float64(sf.DiskBytes)/(1<<20), ratio(float64(sf.DiskBytes), float64(fs.DiskBytes)),
			sf.CPUPerQueryMicros, ratio(sf.CPUPerQueryMicros, fs.CPUPerQueryMicros),
			sf.ConcurrentCPUPerQueryMicros, ratio(sf.ConcurrentCPUPerQueryMicros, fs.ConcurrentCPUPerQueryMicros))
	}
	tw.Flush()
	for _, r := range results {
		if r.Server != nil && r.Server.Note != "" {
			fmt.Fprintf(w, "note: %s: %s\n", r.Server.Name, r.Server.Note)
			break
		}
	}
}

// writeFilteredComparison prints the filtered table when any result has
// filtered runs, and reports whether it did.
func writeFilteredComparison(w io.Writer, files []string, results []*Result) bool {
	type fileGroups struct {
		unfiltered float64
		unfOK      bool
		byKey      map[string]runGroup
	}
	per := make([]fileGroups, len(results))
	var keys []runGroup // one per filter, in the order of first appearance
	seen := map[string]bool{}
	for i, r := range results {
		per[i].byKey = map[string]runGroup{}
		for _, g := range groupRuns(r.Runs) {
			if g.key == "" {
				per[i].unfiltered, per[i].unfOK, _ = QPSAtRecall(g.runs, FilteredRecall)
				continue
			}
			per[i].byKey[g.key] = g
			if !seen[g.key] {
				seen[g.key] = true
				keys = append(keys, g)
			}
		}
	}
	if len(keys) == 0 {
		return false
	}
	slices.SortStableFunc(keys, func(a, b runGroup) int {
		switch {
		case a.selectivity > b.selectivity:
			return -1
		case a.selectivity < b.selectivity:
			return 1
		}
		return 0
	})

	fmt.Fprintf(w, "\nfiltered search, qps at recall %.2f\n", FilteredRecall)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "filter\tselectivity\ttarget\tfile\tindex\tplan\tqps@%.2f\tratio\tunfiltered\tfilt/unf\tgoal\t\n", FilteredRecall)
	qpsText := func(q float64, ok, atLeast bool) string {
		switch {
		case !ok:
			return "n/a"
		case atLeast:
			return fmt.Sprintf(">=%.0f", q)
		}
		return fmt.Sprintf("%.0f", q)
	}
	for _, key := range keys {
		var base float64
		firstRow := true
		for i, r := range results {
			g, ok := per[i].byKey[key.key]
			if !ok {
				continue
			}
			q, ok, atLeast := QPSAtRecall(g.runs, FilteredRecall)
			if firstRow {
				base = q
				if !ok {
					base = 0
				}
				firstRow = false
			}
			index := ""
			if r.Params.PayloadIndex != nil {
				index = "no"
				if *r.Params.PayloadIndex {
					index = "yes"
				}
			}
			unf, filtUnf, goal := "n/a", "n/a", ""
			if per[i].unfOK {
				unf = fmt.Sprintf("%.0f", per[i].unfiltered)
				if ok {
					filtUnf = ratio(q, per[i].unfiltered)
					goal = "met"
					if q < FilteredGoal*per[i].unfiltered {
						goal = "missed"
					}
				}
			}
			rat := "n/a"
			if ok {
				rat = ratio(q, base)
			}
			fmt.Fprintf(tw, "%s\t%.4f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
				key.key, g.selectivity, r.Target, filepath.Base(files[i]), index, plansOf(g.runs),
				qpsText(q, ok, atLeast), rat, unf, filtUnf, goal)
		}
	}
	tw.Flush()
	return true
}

// plansOf returns the distinct plans of runs in order, joined by "/".
func plansOf(runs []Measurement) string {
	var plans []string
	for _, m := range runs {
		if m.Plan != "" && !slices.Contains(plans, m.Plan) {
			plans = append(plans, m.Plan)
		}
	}
	if len(plans) == 0 {
		return "-"
	}
	return strings.Join(plans, "/")
}

func ratio(v, base float64) string {
	if base <= 0 || v <= 0 {
		return "n/a"
	}
	if r := v / base; r < 0.1 {
		return fmt.Sprintf("%.2gx", r) // two significant digits, not 0.00x
	}
	return fmt.Sprintf("%.2fx", v/base)
}
