package engine

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/distance/quant"
	"github.com/qlite/qlite/segment"
)

// Quantised vectors (Qdrant's quantization_config): a sealed segment
// trains a quantiser on each configured vector's rows when it is written
// (seal, merge, vacuum), encodes every slot, and keeps the codes in a
// segment file of kind fileQuant beside its other files, so that a reopen
// neither retrains nor re-encodes. Searches of the segment then collect
// their candidates on the codes (segment.QuantSearch).

// fileQuant holds the quantised vectors of one vector name: the config it
// was trained for, the serialised quantiser and the encoded rows.
const fileQuant byte = 'q'

// QuantParams are Qdrant's search-time params.quantization.
type QuantParams = segment.QuantSearch

// quantSpec is a parsed QuantizationConfig.
type quantSpec struct {
	raw       string // compact JSON, what a segment's codes are compared by
	kind      quant.Kind
	alwaysRAM bool
	scalar    quant.ScalarOptions
	binary    quant.BinaryOptions
	product   quant.ProductOptions
}

// parseQuantSpec parses a QuantizationConfig that the configuration
// checks accepted; nil for none.
func parseQuantSpec(raw json.RawMessage) (*quantSpec, error) {
	raw = cfgRaw(raw)
	if raw == nil {
		return nil, nil
	}
	var m struct {
		Scalar *struct {
			Type      string   `json:"type"`
			Quantile  *float32 `json:"quantile"`
			AlwaysRAM *bool    `json:"always_ram"`
		} `json:"scalar"`
		Binary *struct {
			AlwaysRAM     *bool   `json:"always_ram"`
			Encoding      *string `json:"encoding"`
			QueryEncoding *string `json:"query_encoding"`
		} `json:"binary"`
		Product *struct {
			Compression string `json:"compression"`
			AlwaysRAM   *bool  `json:"always_ram"`
		} `json:"product"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: quantization_config: %v", ErrBadRequest, err)
	}
	s := &quantSpec{raw: string(raw)}
	switch {
	case m.Scalar != nil:
		s.kind = quant.KindScalar
		if m.Scalar.Type != "int8" {
			return nil, cfgBad("quantization_config.scalar.type", "unknown variant `%s`, expected `int8`", m.Scalar.Type)
		}
		if m.Scalar.Quantile != nil {
			s.scalar.Quantile = *m.Scalar.Quantile
		}
		s.alwaysRAM = m.Scalar.AlwaysRAM != nil && *m.Scalar.AlwaysRAM
	case m.Binary != nil:
		s.kind = quant.KindBinary
		var err error
		if e := m.Binary.Encoding; e != nil {
			if s.binary.Encoding, err = quant.ParseEncoding(*e); err != nil {
				return nil, cfgBad("quantization_config.binary.encoding", "unknown variant `%s`, expected one of `one_bit`, `two_bits`, `one_and_half_bits`", *e)
			}
		}
		if e := m.Binary.QueryEncoding; e != nil {
			if s.binary.QueryEncoding, err = quant.ParseQueryEncoding(*e); err != nil {
				return nil, cfgBad("quantization_config.binary.query_encoding", "unknown variant `%s`, expected one of `default`, `binary`, `scalar4bits`, `scalar8bits`", *e)
			}
		}
		s.alwaysRAM = m.Binary.AlwaysRAM != nil && *m.Binary.AlwaysRAM
	case m.Product != nil:
		s.kind = quant.KindProduct
		c, err := quant.ParseCompression(m.Product.Compression)
		if err != nil {
			return nil, cfgBad("quantization_config.product.compression", "unknown variant `%s`, expected one of `x4`, `x8`, `x16`, `x32`, `x64`", m.Product.Compression)
		}
		s.product.Compression = c
		s.alwaysRAM = m.Product.AlwaysRAM != nil && *m.Product.AlwaysRAM
	default:
		return nil, cfgBad("quantization_config", `must be {"scalar": ...}, {"product": ...} or {"binary": ...}`)
	}
	return s, nil
}

// QuantizationDecodes reports whether raw, a QuantizationConfig (or with
// diff a QuantizationConfigDiff, which may also be the string
// "Disabled"), decodes as Qdrant decodes it: one known kind, with known
// types, encodings and compressions. Absent or null decodes.
func QuantizationDecodes(raw json.RawMessage, diff bool) bool {
	if diff && string(cfgRaw(raw)) == `"Disabled"` {
		return true
	}
	_, err := parseQuantSpec(raw)
	return err == nil
}

// train returns the function that trains s's quantiser for metric, on up
// to workers goroutines.
func (s *quantSpec) train(metric distance.Metric, workers int) func(quant.Vectors) (quant.Quantizer, error) {
	return func(v quant.Vectors) (quant.Quantizer, error) {
		switch s.kind {
		case quant.KindScalar:
			return quant.TrainScalar(v, metric, v.Dim(), s.scalar)
		case quant.KindBinary:
			return quant.TrainBinary(v, metric, v.Dim(), s.binary)
		default:
			o := s.product
			o.Workers = workers
			return quant.TrainProduct(v, metric, v.Dim(), o)
		}
	}
}

// quantConfigOf returns the QuantizationConfig that applies to vector
// name: its own, else the collection's. Multivectors are not quantised.
func quantConfigOf(cfg *CollectionConfig, name string) json.RawMessage {
	vp, ok := cfg.Params.Vectors[name]
	if !ok || vp.IsMulti() {
		return nil
	}
	if q := cfgRaw(vp.Quantization); q != nil {
		return q
	}
	return cfgRaw(cfg.Quantization)
}

// quantOutdated reports whether a persisted segment's quantised vectors
// do not match the configuration: such a segment is rewritten by the
// optimizer, as Qdrant's re-quantises segments whose config changed.
func (c *collection) quantOutdated(ref *segRef) bool {
	cfg := c.config()
	have := ref.quantCfgs()
	for i, name := range c.vectorNames() {
		if string(quantConfigOf(cfg, name)) != have[i] {
			return true
		}
	}
	return false
}

// quantCfgs returns, by vector index, the config each quant file of ref
// was trained for ("" for none).
func (ref *segRef) quantCfgs() map[int]string {
	out := map[int]string{}
	if p := ref.quantCfg.Load(); p != nil {
		for i, s := range *p {
			out[i] = s
		}
	}
	return out
}

// quantHeader returns the header of a fileQuant file of dataLen bytes for
// slots slots.
func quantHeader(slots int, dataLen uint64) segFileHeader {
	return segFileHeader{kind: fileQuant, b: uint32(slots), dataLen: dataLen}
}

// quantLayout returns where a fileQuant file's rows start: after the
// config and the quantiser (each a little-endian uint32 length then the
// bytes), 64-byte aligned.
func quantLayout(cfgLen, qLen int) int {
	return (8 + cfgLen + qLen + 63) &^ 63
}

// writeQuantFiles quantises each configured vector of the sealed segment
// ref and writes its codes to a file. On error, the files written are
// removed.
func (c *collection) writeQuantFiles(ref *segRef) (files []fileInfo, err error) {
	cfg := c.config()
	dir := c.db.segFilesDir(c.cid)
	defer func() {
		if err != nil {
			c.db.removeSegFiles(c.cid, ref.id, files)
			files = nil
		}
	}()
	cfgs := map[int]string{}
	n := ref.seg.Len()
	for i, name := range c.vectorNames() {
		raw := quantConfigOf(cfg, name)
		spec, err := parseQuantSpec(raw)
		if err != nil || spec == nil {
			if qerr := ref.seg.SetQuantized(name, nil); qerr != nil {
				return files, qerr
			}
			continue // a config the checks let through but qlite cannot train is left out
		}
		vp := cfg.Params.Vectors[name]
		qv, err := ref.seg.Quantize(name, c.db.opts.IndexingWorkers, spec.train(vp.Distance, c.db.opts.IndexingWorkers))
		if err != nil {
			return files, fmt.Errorf("segment %d: quantise %q: %w", ref.id, name, err)
		}
		c.db.stats.quantizes.Add(1)
		qb := qv.Q.AppendBinary(nil)
		start := quantLayout(len(raw), len(qb))
		rowsLen := n * qv.Q.RowSize()
		h := quantHeader(n, uint64(start+rowsLen))
		if err := c.db.checkSpace(int64(segFileDataOff + h.dataLen)); err != nil {
			return files, err
		}
		fi, err := c.db.writeSegFile(dir, segFileName(ref.id, fileInfo{kind: fileQuant, index: uint32(i)}), fileQuant, uint32(i), h,
			func(w io.Writer) error {
				head := make([]byte, start)
				binary.LittleEndian.PutUint32(head, uint32(len(raw)))
				copy(head[4:], raw)
				binary.LittleEndian.PutUint32(head[4+len(raw):], uint32(len(qb)))
				copy(head[8+len(raw):], qb)
				if _, err := w.Write(head); err != nil {
					return err
				}
				_, err := w.Write(qv.Rows[:rowsLen])
				return err
			})
		if err != nil {
			return files, fmt.Errorf("segment %d: quantised %q: %w", ref.id, name, err)
		}
		files = append(files, fi)
		if err := ref.seg.SetQuantized(name, qv); err != nil {
			return files, err
		}
		cfgs[i] = string(raw)
	}
	ref.quantCfg.Store(&cfgs)
	return files, nil
}

// openQuantFiles opens the quant files among a manifest segment's files,
// checks them and installs their codes in ref's segment: in place from
// the mapping, or copied to the heap for always_ram. It returns the
// mappings to keep. check false skips the CRC pass.
func (c *collection) openQuantFiles(ref *segRef, files []fileInfo, check bool) (_ []*fileMap, err error) {
	names := c.vectorNames()
	cfg := c.config()
	dir := c.db.segFilesDir(c.cid)
	var maps []*fileMap
	defer func() {
		if err != nil {
			for _, m := range maps {
				m.release()
			}
			maps = nil
		}
	}()
	cfgs := map[int]string{}
	slots := ref.seg.Len()
	for _, f := range files {
		if f.kind != fileQuant {
			continue
		}
		path := filepath.Join(dir, segFileName(ref.id, f))
		bad := func(format string, a ...any) error {
			return fmt.Errorf("%w: segment file %s: %s", ErrCorrupt, path, fmt.Sprintf(format, a...))
		}
		if int(f.index) >= len(names) || f.length < segFileDataOff {
			return maps, bad("unknown vector")
		}
		name := names[f.index]
		m, err := c.db.openSegFile(path, f, quantHeader(slots, f.length-segFileDataOff), check)
		if err != nil {
			return maps, err
		}
		maps = append(maps, m)
		d := m.data
		if len(d) < 8 {
			return maps, bad("short")
		}
		cl := int(binary.LittleEndian.Uint32(d))
		if 8+cl > len(d) {
			return maps, bad("config length %d", cl)
		}
		raw := string(d[4 : 4+cl])
		ql := int(binary.LittleEndian.Uint32(d[4+cl:]))
		if 8+cl+ql > len(d) {
			return maps, bad("quantiser length %d", ql)
		}
		q, err := quant.Open(slices.Clone(d[8+cl : 8+cl+ql]))
		if err != nil {
			return maps, bad("%v", err)
		}
		start := quantLayout(cl, ql)
		rows := d[min(start, len(d)):]
		if len(rows) != slots*q.RowSize() {
			return maps, bad("%d bytes of rows for %d slots of %d bytes", len(rows), slots, q.RowSize())
		}
		mapped := m.mapped
		if spec, _ := parseQuantSpec(json.RawMessage(raw)); spec != nil && spec.alwaysRAM || !mapped {
			heap := quant.AlignedRows(q, slots)
			copy(heap, rows)
			rows, mapped = heap, false
		}
		vp := cfg.Params.Vectors[name]
		if q.Dim() != int(vp.Size) || q.Metric() != vp.Distance {
			return maps, bad("quantiser of dimension %d (%v) for vector %q", q.Dim(), q.Metric(), name)
		}
		if err := ref.seg.SetQuantized(name, &segment.Quantized{Q: q, Rows: rows, Slots: slots, Mapped: mapped}); err != nil {
			return maps, bad("%v", err)
		}
		cfgs[int(f.index)] = raw
	}
	ref.quantCfg.Store(&cfgs)
	return maps, nil
}
