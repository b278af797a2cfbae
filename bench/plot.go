package bench

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// PlotWidth and PlotHeight are the size of a chart; a PNG is drawn at 96
// dots per inch, so 768 x 480 pixels.
const (
	PlotWidth  = 8 * vg.Inch
	PlotHeight = 5 * vg.Inch
)

// PlotOptions tune a chart. The zero value is valid.
type PlotOptions struct {
	// Names tells results apart when two share a target: result i is
	// labelled "target (Names[i])". Default: "target #i", counted from 1.
	Names []string
}

// Plot draws recall (x) against QPS (y, log scale) of the unfiltered runs
// of every result on one chart, one line with points per result, and writes
// it to path in the format its extension names (.png, .svg, .pdf, .jpg).
// The title names the dataset and the machine of the results. It returns an
// error when a result has no unfiltered run with a positive QPS.
func Plot(path string, results []*Result) error {
	return PlotWith(path, results, nil)
}

// PlotWith is Plot with options.
func PlotWith(path string, results []*Result, o *PlotOptions) error {
	curves := make([][]Measurement, len(results))
	for i, r := range results {
		curves[i] = unfilteredRuns(r.Runs)
	}
	return drawCurves(path, "", results, curves, o)
}

// PlotFiltered draws one chart per filter found in the results' filtered
// runs, each with the curve of every result that measured that filter, and
// writes it next to path: "out.png" gives "out-sel0.01.png" for a filter
// of selectivity 0.01, rounded to one significant digit (the filter's name
// when two filters round alike). It returns the paths written, by
// decreasing selectivity, and none when no result has filtered runs.
func PlotFiltered(path string, results []*Result, o *PlotOptions) ([]string, error) {
	var keys []runGroup
	for _, r := range results {
		for _, g := range groupRuns(r.Runs) {
			if g.key != "" && !slices.ContainsFunc(keys, func(k runGroup) bool { return k.key == g.key }) {
				keys = append(keys, g)
			}
		}
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
	ext := filepath.Ext(path)
	stem := strings.TrimSuffix(path, ext)
	var written []string
	for _, key := range keys {
		var (
			sub    []*Result
			curves [][]Measurement
			names  []string
		)
		for i, r := range results {
			for _, g := range groupRuns(r.Runs) {
				if g.key == key.key {
					sub = append(sub, r)
					curves = append(curves, g.runs)
					names = append(names, resultName(o, i))
				}
			}
		}
		suffix := "sel" + selName(key.selectivity)
		if slices.ContainsFunc(keys, func(k runGroup) bool { return k.key != key.key && selName(k.selectivity) == selName(key.selectivity) }) {
			suffix = fileSafe(key.key)
		}
		out := stem + "-" + suffix + ext
		title := fmt.Sprintf("filter %s, selectivity %.4g", key.key, key.selectivity)
		if err := drawCurves(out, title, sub, curves, &PlotOptions{Names: names}); err != nil {
			return written, err
		}
		written = append(written, out)
	}
	return written, nil
}

// PlotFiles reads result files and draws their unfiltered curves to path
// (see Plot), labelling results that share a target with their file names,
// and, when any file holds filtered runs, one chart per filter next to it
// (see PlotFiltered). It returns the paths written.
func PlotFiles(path string, files []string) ([]string, error) {
	if len(files) == 0 {
		return nil, errors.New("bench: plot: no result files")
	}
	results := make([]*Result, len(files))
	names := make([]string, len(files))
	for i, f := range files {
		r, err := ReadResult(f)
		if err != nil {
			return nil, err
		}
		results[i] = r
		names[i] = filepath.Base(f)
	}
	o := &PlotOptions{Names: names}
	if err := PlotWith(path, results, o); err != nil {
		return nil, err
	}
	more, err := PlotFiltered(path, results, o)
	return append([]string{path}, more...), err
}

// resultName is the name that tells result i apart from others of its
// target.
func resultName(o *PlotOptions, i int) string {
	if o != nil && i < len(o.Names) && o.Names[i] != "" {
		return o.Names[i]
	}
	return "#" + strconv.Itoa(i+1)
}

// drawCurves draws curves[i], the runs of results[i], on one chart titled
// with the dataset, the machine and, when not empty, sub.
func drawCurves(path, sub string, results []*Result, curves [][]Measurement, o *PlotOptions) error {
	if len(results) == 0 {
		return errors.New("bench: plot: no results")
	}
	type curve struct {
		label string
		xys   plotter.XYs
	}
	perTarget := map[string]int{}
	for _, r := range results {
		perTarget[r.Target]++
	}
	var all []curve
	for i, r := range results {
		pts := slices.Clone(curves[i])
		slices.SortStableFunc(pts, func(a, b Measurement) int { return a.Ef - b.Ef })
		var xys plotter.XYs
		for _, m := range pts {
			if m.QPS > 0 && !math.IsInf(m.QPS, 0) && !math.IsNaN(m.Recall) {
				xys = append(xys, plotter.XY{X: m.Recall, Y: m.QPS})
			}
		}
		label := r.Target
		if label == "" {
			label = "?"
		}
		if perTarget[r.Target] > 1 {
			label += " (" + resultName(o, i) + ")"
		}
		if len(xys) == 0 {
			what := "unfiltered runs"
			if sub != "" {
				what = "runs with " + sub
			}
			return fmt.Errorf("bench: plot: %s has no %s with a positive QPS", label, what)
		}
		all = append(all, curve{label, xys})
	}

	p := plot.New()
	p.Title.Text = plotTitle(results, sub)
	p.X.Label.Text = fmt.Sprintf("recall@%d", results[0].Params.K)
	p.Y.Label.Text = "queries per second (log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = qpsTicks{}
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.XOffs = -vg.Points(6)
	p.Legend.YOffs = -vg.Points(6)

	ymin, ymax := math.Inf(1), math.Inf(-1)
	xmin, xmax := math.Inf(1), math.Inf(-1)
	for i, c := range all {
		line, points, err := plotter.NewLinePoints(c.xys)
		if err != nil {
			return fmt.Errorf("bench: plot: %s: %w", c.label, err)
		}
		line.Color = curveColors[i%len(curveColors)]
		line.Width = vg.Points(1.5)
		if i >= len(curveColors) {
			line.Dashes = plotutil.Dashes(i / len(curveColors))
		}
		points.Color = line.Color
		points.Shape = plotutil.Shape(i)
		p.Add(line, points)
		p.Legend.Add(c.label, line, points)
		for _, xy := range c.xys {
			ymin, ymax = min(ymin, xy.Y), max(ymax, xy.Y)
			xmin, xmax = min(xmin, xy.X), max(xmax, xy.X)
		}
	}
	// A log axis needs a range that is not empty; pad it by a quarter of a
	// decade on each side so that end points are not drawn on the frame.
	p.Y.Min, p.Y.Max = ymin/math.Pow(10, 0.25), ymax*math.Pow(10, 0.25)
	pad := max((xmax-xmin)*0.05, 0.01)
	p.X.Min, p.X.Max = max(xmin-pad, 0), min(xmax+pad, 1.005)
	if p.X.Max <= p.X.Min {
		p.X.Min = p.X.Max - 2*pad
	}

	if err := p.Save(PlotWidth, PlotHeight, path); err != nil {
		return fmt.Errorf("bench: plot: %w", err)
	}
	return nil
}

// qpsTicks marks a log axis at 1, 2 and 5 times each power of ten, with
// unlabelled ticks at the other integer multiples, so that a curve spanning
// less than a decade still gets labels.
type qpsTicks struct{}

func (qpsTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	if !(lo > 0) || !(hi >= lo) {
		return nil
	}
	for e := math.Floor(math.Log10(lo)); math.Pow(10, e) <= hi; e++ {
		p := math.Pow(10, e)
		for m := 1; m <= 9; m++ {
			v := float64(m) * p
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'f', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// plotTitle names the dataset, its size and the machines of results, and
// sub when not empty.
func plotTitle(results []*Result, sub string) string {
	var datasets, machines []string
	for _, r := range results {
		d := fmt.Sprintf("%s, %d points, %s, k=%d", r.Dataset, r.Points, r.Metric, r.Params.K)
		if !slices.Contains(datasets, d) {
			datasets = append(datasets, d)
		}
		if m := machineName(&r.Env); !slices.Contains(machines, m) {
			machines = append(machines, m)
		}
	}
	lines := []string{strings.Join(datasets, "; ")}
	if sub != "" {
		lines = append(lines, sub)
	}
	lines = append(lines, strings.Join(machines, "; "))
	return strings.Join(lines, "\n")
}

// machineName describes the machine of env: CPU model and core count.
func machineName(env *Env) string {
	cpu := env.CPU
	if cpu == "" {
		cpu = "unknown CPU"
	}
	return fmt.Sprintf("%s, %d cores", cpu, env.NumCPU)
}

// fileSafe turns s into a string usable in a file name.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}

// selName rounds a measured selectivity to one significant digit for a
// file name: 0.0996 and 0.11 give "0.1".
func selName(s float64) string { return strconv.FormatFloat(s, 'g', 1, 64) }

// curveColors are ten colours that stay apart from one another (gonum's
// default seven include two reds).
var curveColors = []color.Color{
	color.RGBA{31, 119, 180, 255},  // blue
	color.RGBA{255, 127, 14, 255},  // orange
	color.RGBA{44, 160, 44, 255},   // green
	color.RGBA{214, 39, 40, 255},   // red
	color.RGBA{148, 103, 189, 255}, // purple
	color.RGBA{140, 86, 75, 255},   // brown
	color.RGBA{227, 119, 194, 255}, // pink
	color.RGBA{127, 127, 127, 255}, // grey
	color.RGBA{188, 189, 34, 255},  // olive
	color.RGBA{23, 190, 207, 255},  // cyan
}
