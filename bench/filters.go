package bench

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
)

// Filter kinds, the values of Config.FilterKind.
const (
	// FilterKindRnd filters every query by {"rnd": {"lt": round(s*1e6)}},
	// a condition uncorrelated with the vectors that matches a fraction s
	// of the base.
	FilterKindRnd = "rnd"
	// FilterKindClass filters each query by its own label,
	// {"class": {"match": label}}: the matching points are the ones most
	// like the query, a filter correlated with the vectors. It exists at
	// selectivity 0.1 only (Fashion-MNIST's ten balanced classes).
	FilterKindClass = "class"
)

// FilterKinds lists the values Config.FilterKind accepts.
var FilterKinds = []string{FilterKindRnd, FilterKindClass}

// classSelectivity is the one selectivity of FilterKindClass.
const classSelectivity = 0.1

// filterCase is the filtered workload at one selectivity: the filter of
// every query of the dataset and the base points each filter matches.
type filterCase struct {
	// Name identifies the case in results across runs and seeds:
	// "rnd<1000", "class=label".
	Name string
	// Requested is the selectivity asked for.
	Requested float64
	// Groups are the distinct filters; QueryGroup[q] is the index in
	// Groups of query q's filter, for every query of the dataset.
	Groups     []filterGroup
	QueryGroup []int32
	// n is the number of base points.
	n int
}

// filterGroup is one filter and the base points it matches.
type filterGroup struct {
	// JSON is the filter in Qdrant's REST syntax.
	JSON string
	// IDs are the matching base ids, ascending.
	IDs []uint32
}

// rndFilterJSON returns the filter on the "rnd" field matching values below
// lt.
func rndFilterJSON(lt int) string {
	return `{"must":[{"key":"rnd","range":{"lt":` + strconv.Itoa(lt) + `}}]}`
}

// classFilterJSON returns the filter matching the points of one class.
func classFilterJSON(label uint8) string {
	return `{"must":[{"key":"class","match":{"value":` + strconv.Itoa(int(label)) + `}}]}`
}

// rndBound returns the exclusive "rnd" bound of selectivity s.
func rndBound(s float64) int { return int(math.Round(s * RndRange)) }

// buildFilterCases returns one case per selectivity of the given kind over
// the payloads of the base points and the labels of the dataset's queries.
// The matching ids are computed here, from the generated payloads, and not
// by the code under test.
func buildFilterCases(kind string, sels []float64, payloads []PointPayload, qlabels []uint8) ([]*filterCase, error) {
	cases := make([]*filterCase, 0, len(sels))
	for _, s := range sels {
		c := &filterCase{Requested: s, QueryGroup: make([]int32, len(qlabels)), n: len(payloads)}
		switch kind {
		case FilterKindRnd:
			lt := rndBound(s)
			g := filterGroup{JSON: rndFilterJSON(lt)}
			for i := range payloads {
				if int(payloads[i].Rnd) < lt {
					g.IDs = append(g.IDs, uint32(i))
				}
			}
			c.Name = "rnd<" + strconv.Itoa(lt)
			c.Groups = []filterGroup{g}
		case FilterKindClass:
			if s != classSelectivity {
				return nil, fmt.Errorf("bench: filter kind class has selectivity %v only, not %v", classSelectivity, s)
			}
			c.Name = "class=label"
			c.Groups = make([]filterGroup, numClasses)
			for l := range c.Groups {
				c.Groups[l].JSON = classFilterJSON(uint8(l))
			}
			for i := range payloads {
				l := payloads[i].Class
				if int(l) >= numClasses {
					return nil, fmt.Errorf("bench: base point %d has label %d, want 0..%d", i, l, numClasses-1)
				}
				c.Groups[l].IDs = append(c.Groups[l].IDs, uint32(i))
			}
			for q, l := range qlabels {
				if int(l) >= numClasses {
					return nil, fmt.Errorf("bench: query %d has label %d, want 0..%d", q, l, numClasses-1)
				}
				c.QueryGroup[q] = int32(l)
			}
		default:
			return nil, fmt.Errorf("bench: unknown filter kind %q", kind)
		}
		cases = append(cases, c)
	}
	return cases, nil
}

// Selectivity returns the fraction of the base matched by the filters of
// the first nq queries, averaged over those queries.
func (c *filterCase) Selectivity(nq int) float64 {
	if c.n == 0 || nq == 0 {
		return 0
	}
	var sum float64
	for _, g := range c.QueryGroup[:nq] {
		sum += float64(len(c.Groups[g].IDs))
	}
	return sum / float64(nq) / float64(c.n)
}

// groupQueries returns, for each group, the queries in [from, to) that use
// it, ascending.
func (c *filterCase) groupQueries(from, to int) [][]int {
	out := make([][]int, len(c.Groups))
	for q := from; q < to; q++ {
		g := c.QueryGroup[q]
		out[g] = append(out[g], q)
	}
	return out
}

// Hash returns a hex SHA-256 of the filters, their matching ids and the
// filter of every query: what the filtered ground truth depends on besides
// the vectors.
func (c *filterCase) Hash() string {
	h := sha256.New()
	var b [4]byte
	put := func(v uint32) {
		binary.LittleEndian.PutUint32(b[:], v)
		h.Write(b[:])
	}
	put(uint32(len(c.Groups)))
	for _, g := range c.Groups {
		put(uint32(len(g.JSON)))
		h.Write([]byte(g.JSON))
		put(uint32(len(g.IDs)))
		for _, id := range g.IDs {
			put(id)
		}
	}
	put(uint32(len(c.QueryGroup)))
	for _, g := range c.QueryGroup {
		put(uint32(g))
	}
	return hex.EncodeToString(h.Sum(nil))
}
