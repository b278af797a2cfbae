package engine

import (
	"encoding/binary"
	"fmt"

	"github.com/qlite/qlite/filter"
)

// Key layout: see segment/FORMAT.md.
const (
	keyFormat     = 0x01
	keyNextCID    = 0x02
	keyCollection = 0x03
	keyAlias      = 0x04
	keyData       = 0x10

	famOp       = 'o'
	famPoint    = 'p'
	famVectors  = 'v'
	famIndex    = 'i'
	famManifest = 'm'
	famArtefact = 's'
	famGhost    = 'g'
)

const formatMagic = "QLDB"

// Store format versions: version 2 stores dense vectors in the 'v' family,
// apart from the point records (version 3). A version 1 store is upgraded
// when opened: its records are read as they are (see segment/FORMAT.md).
const (
	formatVersion       = 2
	formatVersionInline = 1
)

func collectionKey(name string) []byte { return append([]byte{keyCollection}, name...) }
func aliasKey(alias string) []byte     { return append([]byte{keyAlias}, alias...) }

// dataPrefix returns the prefix of every key of collection cid.
func dataPrefix(cid uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{keyData}, cid)
}

// famPrefix returns the prefix of family fam of collection cid.
func famPrefix(cid uint32, fam byte) []byte { return append(dataPrefix(cid), fam) }

func opKey(cid uint32) []byte       { return famPrefix(cid, famOp) }
func manifestKey(cid uint32) []byte { return famPrefix(cid, famManifest) }

func indexKey(cid uint32, field string) []byte { return append(famPrefix(cid, famIndex), field...) }

// appendIDKey appends the ordered encoding of a point id.
func appendIDKey(dst []byte, id filter.PointID) []byte {
	if n, ok := id.Num(); ok {
		return binary.BigEndian.AppendUint64(append(dst, 0), n)
	}
	u, _ := id.UUID()
	return append(append(dst, 1), u[:]...)
}

// decodeIDKey decodes an id key at the start of b and returns the rest.
func decodeIDKey(b []byte) (filter.PointID, []byte, error) {
	if len(b) >= 9 && b[0] == 0 {
		return filter.NumID(binary.BigEndian.Uint64(b[1:9])), b[9:], nil
	}
	if len(b) >= 17 && b[0] == 1 {
		var u [16]byte
		copy(u[:], b[1:17])
		return filter.UUIDID(u), b[17:], nil
	}
	return filter.PointID{}, nil, fmt.Errorf("%w: bad point id key %x", ErrCorrupt, b)
}

func pointKey(cid uint32, id filter.PointID) []byte {
	return appendIDKey(famPrefix(cid, famPoint), id)
}

// vectorsKey returns the key of the dense vectors of point id.
func vectorsKey(cid uint32, id filter.PointID) []byte {
	return appendIDKey(famPrefix(cid, famVectors), id)
}

func artefactKey(cid, segID uint32, part byte, chunk uint32) []byte {
	k := binary.BigEndian.AppendUint32(famPrefix(cid, famArtefact), segID)
	k = append(k, part)
	return binary.BigEndian.AppendUint32(k, chunk)
}

func artefactPrefix(cid, segID uint32) []byte {
	return binary.BigEndian.AppendUint32(famPrefix(cid, famArtefact), segID)
}

func ghostKey(cid, segID, off uint32) []byte {
	k := binary.BigEndian.AppendUint32(famPrefix(cid, famGhost), segID)
	return binary.BigEndian.AppendUint32(k, off)
}

func ghostPrefix(cid, segID uint32) []byte {
	return binary.BigEndian.AppendUint32(famPrefix(cid, famGhost), segID)
}

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil // p is all 0xff: no upper bound
}
