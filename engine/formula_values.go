package engine

import (
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/qlite/qlite/payload"
)

// This file converts payload values to what formula expressions need, with
// Qdrant's error messages (its JSON deserializer's and its datetime
// parser's words).

// geoPointOf reads a geo point the way Qdrant deserializes one from a JSON
// value: an object with numeric lon and lat (other keys ignored), or an
// array [lon, lat]; msg says why v is not one.
func geoPointOf(v payload.Value) (p payload.GeoPoint, msg string) {
	const what = "struct GeoPointShadow"
	switch v.Kind() {
	case payload.Object:
		var hasLon, hasLat bool
		for _, f := range v.Fields() {
			var dst *float64
			switch f.Key {
			case "lon":
				dst, hasLon = &p.Lon, true
			case "lat":
				dst, hasLat = &p.Lat, true
			default:
				continue
			}
			x, ok := f.Value.Number()
			if !ok {
				return p, "invalid type: " + unexpected(f.Value) + ", expected f64"
			}
			*dst = x
		}
		if !hasLon {
			return p, "missing field `lon`"
		}
		if !hasLat {
			return p, "missing field `lat`"
		}
	case payload.Array:
		arr := v.Array()
		for i, dst := range []*float64{&p.Lon, &p.Lat} {
			if i >= len(arr) {
				return p, "invalid length " + strconv.Itoa(i) + ", expected " + what + " with 2 elements"
			}
			x, ok := arr[i].Number()
			if !ok {
				return p, "invalid type: " + unexpected(arr[i]) + ", expected f64"
			}
			*dst = x
		}
		if len(arr) > 2 {
			return p, "invalid length " + strconv.Itoa(len(arr)) + ", expected fewer elements in array"
		}
	default:
		return p, "invalid type: " + unexpected(v) + ", expected " + what
	}
	if !(p.Lon >= -180 && p.Lon <= 180) || !(p.Lat >= -90 && p.Lat <= 90) {
		return p, "Wrong format of GeoPoint payload: expected `lat` = " + rustFloat(p.Lat) +
			" within [-90;90] and `lon` = " + rustFloat(p.Lon) + " within [-180;180]"
	}
	return p, ""
}

// unexpected describes a JSON value as Qdrant's deserializer does in an
// "invalid type" error.
func unexpected(v payload.Value) string {
	switch v.Kind() {
	case payload.Null:
		return "null"
	case payload.Bool:
		b, _ := v.Bool()
		return "boolean `" + strconv.FormatBool(b) + "`"
	case payload.Int:
		i, _ := v.Int()
		return "integer `" + strconv.FormatInt(i, 10) + "`"
	case payload.Uint:
		u, _ := v.Uint()
		return "integer `" + strconv.FormatUint(u, 10) + "`"
	case payload.Float:
		f, _ := v.Float()
		s := rustFloat(f)
		if !strings.ContainsAny(s, ".eEinfNa") {
			s += ".0"
		}
		return "floating point `" + s + "`"
	case payload.String:
		s, _ := v.Str()
		return "string " + rustDebugString(s)
	case payload.Array:
		return "sequence"
	}
	return "map"
}

// rustDebugString quotes s as Rust's Debug does for the common cases.
func rustDebugString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case 0:
			b.WriteString(`\0`)
		default:
			if unicode.IsControl(r) {
				b.WriteString(`\u{` + strconv.FormatInt(int64(r), 16) + `}`)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// formulaDatetime converts a datetime string to seconds since the Unix
// epoch (with microseconds), as Qdrant turns datetimes into numbers in a
// formula; msg is Qdrant's reason when s is not a datetime.
func formulaDatetime(s string) (secs float64, msg string) {
	t, err := payload.ParseDatetime(s)
	if err != nil {
		return 0, chronoDateError(s)
	}
	return float64(t.UnixMicro()) / 1e6, ""
}

// chronoDateError is the reason Qdrant gives when s is none of its
// datetime forms: that of its last attempt, s as a plain "%Y-%m-%d" date.
func chronoDateError(s string) string {
	const (
		tooShort   = "premature end of input"
		invalid    = "input contains invalid characters"
		outOfRange = "input is out of range"
		tooLong    = "trailing input"
	)
	// number reads a number of at most maxDigits digits (after optional
	// whitespace, and a sign when signed, which lifts the digit limit).
	number := func(signed bool, maxDigits int) (int64, string) {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
		neg := false
		if signed && s != "" && (s[0] == '+' || s[0] == '-') {
			neg, s, maxDigits = s[0] == '-', s[1:], len(s)
		}
		if s == "" {
			return 0, tooShort
		}
		n := 0
		for n < len(s) && n < maxDigits && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		if n == 0 {
			return 0, invalid
		}
		v, err := strconv.ParseInt(s[:n], 10, 64)
		if err != nil {
			return 0, outOfRange
		}
		s = s[n:]
		if neg {
			v = -v
		}
		return v, ""
	}
	literal := func() string {
		switch {
		case s == "":
			return tooShort
		case s[0] != '-':
			return invalid
		}
		s = s[1:]
		return ""
	}
	year, msg := number(true, 4)
	if msg != "" {
		return msg
	}
	if year < -1<<31 || year >= 1<<31 {
		return outOfRange
	}
	if msg := literal(); msg != "" {
		return msg
	}
	month, msg := number(false, 2)
	if msg != "" {
		return msg
	}
	if month < 1 || month > 12 {
		return outOfRange
	}
	if msg := literal(); msg != "" {
		return msg
	}
	day, msg := number(false, 2)
	if msg != "" {
		return msg
	}
	if day < 1 || day > 31 {
		return outOfRange
	}
	if s != "" {
		return tooLong
	}
	if t := time.Date(int(year), time.Month(month), int(day), 0, 0, 0, 0, time.UTC); t.Day() != int(day) || year > 262142 || year < -262143 {
		return outOfRange
	}
	return invalid
}
