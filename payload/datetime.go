package payload

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrBadDatetime is wrapped by ParseDatetime errors.
var ErrBadDatetime = errors.New("qlite: invalid datetime")

// ParseDatetime parses a datetime payload value or range bound in exactly
// the forms Qdrant accepts, trying in order:
//
//   - relaxed RFC 3339: "2024-01-02T03:04:05Z", with 'T', 't' or ' ' between
//     date and time, an optional fraction, and an offset "Z", "z", "UTC"
//     (any case), "+01:00", "+0100" or "+01 00"; whitespace is allowed
//     before numbers and around the offset, fields may have fewer digits
//     ("2024-1-2T3:4:5Z"), and a year may carry a sign ("+12024-...");
//   - "%Y-%m-%dT%H:%M:%S%.f%#z" and "%Y-%m-%d %H:%M:%S%.f%#z", whose offset
//     may omit its minutes ("+01");
//   - naive "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M"
//     and "%Y-%m-%d", taken as UTC.
//
// A space in the strftime forms matches any run of whitespace, including
// none. Second 60 (a leap second) is accepted and lands on the next second.
// Offsets must be less than 24 hours. Fractions beyond nanoseconds are
// ignored.
//
// The result is in UTC with nanosecond precision. Qdrant compares datetimes
// in two ways: without an index at full precision, and in a datetime index
// as whole microseconds since the epoch (rounded down), for both stored
// values and range bounds; DatetimeRange.Contains does the former and
// DatetimeIndex the latter. They differ only for values that differ below
// a microsecond.
func ParseDatetime(s string) (time.Time, error) {
	if t, ok := parseRFC3339Relaxed(s); ok {
		return t, nil
	}
	for _, layout := range datetimeLayouts {
		if t, ok := parseLayout(s, layout); ok {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: '%s' is not in a supported date/time format, please use RFC 3339", ErrBadDatetime, s)
}

// DatetimeMicros returns t as whole microseconds since the Unix epoch,
// rounded down: the key under which a datetime index stores t.
func DatetimeMicros(t time.Time) int64 { return t.UnixMicro() }

// DatetimeRange is a datetime range condition: {gt, gte, lt, lte}. Nil
// bounds are absent; a time matches when it satisfies every present bound.
type DatetimeRange struct {
	GT, GTE, LT, LTE *time.Time
}

// Contains reports whether t satisfies every bound, at full precision.
func (r DatetimeRange) Contains(t time.Time) bool {
	return (r.GT == nil || t.After(*r.GT)) &&
		(r.GTE == nil || !t.Before(*r.GTE)) &&
		(r.LT == nil || t.Before(*r.LT)) &&
		(r.LTE == nil || !t.After(*r.LTE))
}

// IsUnbounded reports whether r has no bounds.
func (r DatetimeRange) IsUnbounded() bool {
	return r.GT == nil && r.GTE == nil && r.LT == nil && r.LTE == nil
}

// micros returns r with every bound as microseconds since the epoch,
// as a datetime index compares.
func (r DatetimeRange) micros() intRange {
	var out intRange
	conv := func(t *time.Time) *int64 {
		if t == nil {
			return nil
		}
		us := t.UnixMicro()
		return &us
	}
	out.gt, out.gte, out.lt, out.lte = conv(r.GT), conv(r.GTE), conv(r.LT), conv(r.LTE)
	return out
}

// The datetime parser below follows the rules of the strftime-style parser
// Qdrant uses, item by item, so that the accepted set is the same: numeric
// fields skip leading whitespace and take 1..width digits, literals match
// exactly, spaces match any whitespace run.

type dtItem uint8

const (
	dtYear  dtItem = iota // signed; 1-4 digits unsigned, any digits with sign
	dtMonth               // 1-2 digits
	dtDay
	dtHour
	dtMinute
	dtSecond
	dtFrac  // optional '.' followed by at least one digit
	dtSpace // any run of whitespace, possibly empty
	dtDash  // literal '-'
	dtColon // literal ':'
	dtT     // literal 'T'
	dtTZ    // permissive offset: Z, z, ±HH[[:]MM]
)

type dtLayout struct {
	items []dtItem
	naive bool // no offset: UTC
}

var datetimeLayouts = []dtLayout{
	{items: []dtItem{dtYear, dtDash, dtMonth, dtDash, dtDay, dtT, dtHour, dtColon, dtMinute, dtColon, dtSecond, dtFrac, dtTZ}},
	{items: []dtItem{dtYear, dtDash, dtMonth, dtDash, dtDay, dtSpace, dtHour, dtColon, dtMinute, dtColon, dtSecond, dtFrac, dtTZ}},
	{items: []dtItem{dtYear, dtDash, dtMonth, dtDash, dtDay, dtT, dtHour, dtColon, dtMinute, dtColon, dtSecond, dtFrac}, naive: true},
	{items: []dtItem{dtYear, dtDash, dtMonth, dtDash, dtDay, dtSpace, dtHour, dtColon, dtMinute, dtColon, dtSecond, dtFrac}, naive: true},
	{items: []dtItem{dtYear, dtDash, dtMonth, dtDash, dtDay, dtSpace, dtHour, dtColon, dtMinute}, naive: true},
	{items: []dtItem{dtYear, dtDash, dtMonth, dtDash, dtDay}, naive: true},
}

// dtFields collects parsed fields.
type dtFields struct {
	year, month, day, hour, min, sec int64
	nano                             int64
	offset                           int64 // seconds east of UTC
	hasYear, hasMonth, hasDay        bool
	hasOffset                        bool
}

func trimSpace(s string) string { return strings.TrimLeftFunc(s, unicode.IsSpace) }

// scanNumber consumes between minDigits and maxDigits ASCII digits.
func scanNumber(s string, minDigits, maxDigits int) (string, int64, bool) {
	if len(s) < minDigits {
		return s, 0, false
	}
	var n int64
	i := 0
	for ; i < len(s) && i < maxDigits; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			break
		}
		if n > (math.MaxInt64-int64(c-'0'))/10 {
			return s, 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if i < minDigits {
		return s, 0, false
	}
	return s[i:], n, true
}

// scanFraction consumes 1..9 digits as nanoseconds and skips further digits.
func scanFraction(s string) (string, int64, bool) {
	rest, v, ok := scanNumber(s, 1, 9)
	if !ok {
		return s, 0, false
	}
	for n := len(s) - len(rest); n < 9; n++ {
		v *= 10
	}
	rest = strings.TrimLeft(rest, "0123456789")
	return rest, v, true
}

// scanOffset parses "Z", "z" or a numeric offset ±HH[sep]MM, where sep is
// any run of ':' and whitespace; allowMissingMinutes accepts ±HH[sep] at
// the end of the input.
func scanOffset(s string, allowMissingMinutes bool) (string, int64, bool) {
	if s != "" && (s[0] == 'Z' || s[0] == 'z') {
		return s[1:], 0, true
	}
	neg := false
	r, size := utf8.DecodeRuneInString(s)
	switch r {
	case '+':
	case '-', '\u2212':
		neg = true
	default:
		return s, 0, false
	}
	s = s[size:]
	if len(s) < 2 || !asciiDigit(s[0]) || !asciiDigit(s[1]) {
		return s, 0, false
	}
	hours := int64(s[0]-'0')*10 + int64(s[1]-'0')
	s = strings.TrimLeftFunc(s[2:], func(r rune) bool { return r == ':' || unicode.IsSpace(r) })
	var minutes int64
	switch {
	case len(s) >= 2:
		if !asciiDigit(s[1]) || s[0] < '0' || s[0] > '5' {
			return s, 0, false
		}
		minutes = int64(s[0]-'0')*10 + int64(s[1]-'0')
		s = s[2:]
	case len(s) == 0 && allowMissingMinutes:
	default:
		return s, 0, false
	}
	off := hours*3600 + minutes*60
	if neg {
		off = -off
	}
	return s, off, true
}

func dtLiteral(it dtItem) byte {
	switch it {
	case dtDash:
		return '-'
	case dtColon:
		return ':'
	}
	return 'T'
}

func asciiDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanField parses one numeric item into f.
func scanField(s string, it dtItem, f *dtFields) (string, bool) {
	s = trimSpace(s)
	var v int64
	var ok bool
	if it == dtYear {
		switch {
		case strings.HasPrefix(s, "-"):
			s, v, ok = scanNumber(s[1:], 1, math.MaxInt)
			v = -v
		case strings.HasPrefix(s, "+"):
			s, v, ok = scanNumber(s[1:], 1, math.MaxInt)
		default:
			s, v, ok = scanNumber(s, 1, 4)
		}
		if !ok || v < math.MinInt32 || v > math.MaxInt32 {
			return s, false
		}
		f.year, f.hasYear = v, true
		return s, true
	}
	s, v, ok = scanNumber(s, 1, 2)
	if !ok {
		return s, false
	}
	switch it {
	case dtMonth:
		if v < 1 || v > 12 {
			return s, false
		}
		f.month, f.hasMonth = v, true
	case dtDay:
		if v < 1 || v > 31 {
			return s, false
		}
		f.day, f.hasDay = v, true
	case dtHour:
		if v > 23 {
			return s, false
		}
		f.hour = v
	case dtMinute:
		if v > 59 {
			return s, false
		}
		f.min = v
	case dtSecond:
		if v > 60 {
			return s, false
		}
		f.sec = v
	}
	return s, true
}

func parseLayout(s string, l dtLayout) (time.Time, bool) {
	var f dtFields
	var ok bool
	for _, it := range l.items {
		switch it {
		case dtYear, dtMonth, dtDay, dtHour, dtMinute, dtSecond:
			if s, ok = scanField(s, it, &f); !ok {
				return time.Time{}, false
			}
		case dtFrac:
			if strings.HasPrefix(s, ".") {
				if s, f.nano, ok = scanFraction(s[1:]); !ok {
					return time.Time{}, false
				}
			}
		case dtSpace:
			s = trimSpace(s)
		case dtDash, dtColon, dtT:
			if s == "" || s[0] != dtLiteral(it) {
				return time.Time{}, false
			}
			s = s[1:]
		case dtTZ:
			if s, f.offset, ok = scanOffset(trimSpace(s), true); !ok {
				return time.Time{}, false
			}
			f.hasOffset = true
		}
	}
	if s != "" {
		return time.Time{}, false
	}
	return f.toTime()
}

func parseRFC3339Relaxed(s string) (time.Time, bool) {
	var f dtFields
	var ok bool
	date := []dtItem{dtYear, dtSpace, dtDash, dtMonth, dtSpace, dtDash, dtDay}
	clock := []dtItem{dtHour, dtSpace, dtColon, dtMinute, dtSpace, dtColon, dtSecond, dtFrac, dtSpace}
	run := func(items []dtItem) bool {
		for _, it := range items {
			switch it {
			case dtSpace:
				s = trimSpace(s)
			case dtDash, dtColon:
				if s == "" || s[0] != dtLiteral(it) {
					return false
				}
				s = s[1:]
			case dtFrac:
				if strings.HasPrefix(s, ".") {
					if s, f.nano, ok = scanFraction(s[1:]); !ok {
						return false
					}
				}
			default:
				if s, ok = scanField(s, it, &f); !ok {
					return false
				}
			}
		}
		return true
	}
	if !run(date) {
		return time.Time{}, false
	}
	if s == "" || (s[0] != 'T' && s[0] != 't' && s[0] != ' ') {
		return time.Time{}, false
	}
	s = s[1:]
	if !run(clock) {
		return time.Time{}, false
	}
	s = trimSpace(s)
	if len(s) >= 3 && strings.EqualFold(s[:3], "UTC") {
		s = s[3:]
	} else if s, f.offset, ok = scanOffset(s, false); !ok {
		return time.Time{}, false
	}
	f.hasOffset = true
	if trimSpace(s) != "" {
		return time.Time{}, false
	}
	return f.toTime()
}

// The range of years a datetime may have, as in Qdrant's date library.
const (
	minDatetimeYear = -262143
	maxDatetimeYear = 262142
)

func (f *dtFields) toTime() (time.Time, bool) {
	if !f.hasYear || !f.hasMonth || !f.hasDay {
		return time.Time{}, false
	}
	if f.year < minDatetimeYear || f.year > maxDatetimeYear {
		return time.Time{}, false
	}
	// The day must exist in its month.
	d := time.Date(int(f.year), time.Month(f.month), int(f.day), 0, 0, 0, 0, time.UTC)
	if d.Day() != int(f.day) {
		return time.Time{}, false
	}
	sec, nano := f.sec, f.nano
	if sec == 60 {
		sec, nano = 59, nano+int64(time.Second)
	}
	if f.hasOffset && (f.offset <= -86400 || f.offset >= 86400) {
		return time.Time{}, false
	}
	t := time.Date(int(f.year), time.Month(f.month), int(f.day), int(f.hour), int(f.min), int(sec), int(nano), time.UTC)
	t = t.Add(-time.Duration(f.offset) * time.Second)
	if y := t.Year(); y < minDatetimeYear || y > maxDatetimeYear {
		return time.Time{}, false
	}
	return t, true
}
