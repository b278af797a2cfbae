package payload

import (
	"errors"
	"testing"
	"time"
)

func TestParseDatetime(t *testing.T) {
	f := func(in string, want string) {
		t.Helper()
		got, err := ParseDatetime(in)
		if err != nil {
			t.Errorf("ParseDatetime(%q): %v", in, err)
			return
		}
		w, err := time.Parse(time.RFC3339Nano, want)
		if err != nil {
			t.Fatalf("bad want %q: %v", want, err)
		}
		if !got.Equal(w) || got.Location() != time.UTC {
			t.Errorf("ParseDatetime(%q) = %v, want %v", in, got, w.UTC())
		}
	}
	// RFC 3339.
	f("2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z")
	f("2024-01-02T03:04:05z", "2024-01-02T03:04:05Z")
	f("2024-01-02t03:04:05Z", "2024-01-02T03:04:05Z")
	f("2024-01-02T03:04:05.123456789Z", "2024-01-02T03:04:05.123456789Z")
	f("2024-01-02T03:04:05.1234567891234Z", "2024-01-02T03:04:05.123456789Z")
	f("2024-01-02T03:04:05+01:00", "2024-01-02T02:04:05Z")
	f("2024-01-02T03:04:05-01:30", "2024-01-02T04:34:05Z")
	f("2024-01-02T03:04:05−01:00", "2024-01-02T04:04:05Z") // U+2212 minus
	// Relaxed RFC 3339: space separator, offsets without colon, UTC,
	// short fields, whitespace, signed years.
	f("2024-01-02 03:04:05Z", "2024-01-02T03:04:05Z")
	f("2024-01-02 03:04:05.5+0100", "2024-01-02T02:04:05.5Z")
	f("2024-01-02 03:04:05 +01 00", "2024-01-02T02:04:05Z")
	f("2024-01-02T03:04:05 UTC", "2024-01-02T03:04:05Z")
	f("2024-01-02T03:04:05utc  ", "2024-01-02T03:04:05Z")
	f("2024-1-2T3:4:5Z", "2024-01-02T03:04:05Z")
	f("2024- 01 -02T03: 04:05Z", "2024-01-02T03:04:05Z")
	f(" 2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z")
	f("+2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z")
	f("2016-12-31T23:59:60Z", "2017-01-01T00:00:00Z") // leap second
	// "%Y-%m-%dT%H:%M:%S%.f%#z" and the space form: offsets may omit minutes.
	f("2024-01-02T03:04:05+01", "2024-01-02T02:04:05Z")
	f("2024-01-02T03:04:05.25-02", "2024-01-02T05:04:05.25Z")
	f("2024-01-02 03:04:05+05:", "2024-01-01T22:04:05Z")
	f("2024-01-0203:04:05Z", "2024-01-02T03:04:05Z") // a format space matches nothing too
	// Naive forms are UTC.
	f("2024-01-02T03:04:05", "2024-01-02T03:04:05Z")
	f("2024-01-02T03:04:05.000001", "2024-01-02T03:04:05.000001Z")
	f("2024-01-02 03:04:05", "2024-01-02T03:04:05Z")
	f("2024-01-02 03:04:05.7", "2024-01-02T03:04:05.7Z")
	f("2024-01-02 03:04", "2024-01-02T03:04:00Z")
	f("2024-01-02", "2024-01-02T00:00:00Z")
	f("2024-1-2", "2024-01-02T00:00:00Z")
	f("0001-01-01", "0001-01-01T00:00:00Z")
	f("2024-02-29", "2024-02-29T00:00:00Z")
}

func TestParseDatetimeRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"2024",
		"2024-01",
		"2024-01-02T",
		"2024-01-02T03",
		"2024-01-02T03:04:05Zjunk",
		"2024-01-02T03:04:05+1",
		"2024-01-02T03:04:05+01:6",
		"2024-01-02T03:04:05+01:60",
		"2024-01-02T03:04:05+24:00", // offsets are below 24 hours
		"2024-01-02T03:04:05.Z",     // a fraction needs a digit
		"2024-01-02T03:04:05 ",      // naive forms allow no trailing space
		"2024-01-02 ",
		"2024-01-02T03:04", // only the space form may omit seconds
		"2024-13-01",       // month
		"2024-00-01",       // month
		"2023-02-29",       // not a leap year
		"2024-04-31",       // day
		"2024-01-02T24:00:00Z",
		"2024-01-02T23:60:00Z",
		"2024-01-02T23:59:61Z",
		"12024-01-02", // five-digit years need a sign
		"2024/01/02",
		"02-01-2024",
		"2024-01-02T03:04:05 EST",
		"Tue, 02 Jan 2024 03:04:05 GMT",
		"1704164645",
		"+262143-01-01", // beyond the supported years
	} {
		if got, err := ParseDatetime(in); err == nil {
			t.Errorf("ParseDatetime(%q) = %v, want error", in, got)
		} else if !errors.Is(err, ErrBadDatetime) {
			t.Errorf("ParseDatetime(%q): error %v does not wrap ErrBadDatetime", in, err)
		}
	}
}

func TestDatetimeRange(t *testing.T) {
	at := func(s string) *time.Time {
		t, err := ParseDatetime(s)
		if err != nil {
			panic(err)
		}
		return &t
	}
	r := DatetimeRange{GTE: at("2024-01-01"), LT: at("2024-02-01")}
	for s, want := range map[string]bool{
		"2023-12-31T23:59:59.999999999Z": false,
		"2024-01-01T00:00:00Z":           true,
		"2024-01-31T23:59:59Z":           true,
		"2024-02-01":                     false,
	} {
		if got := r.Contains(*at(s)); got != want {
			t.Errorf("Contains(%s) = %v, want %v", s, got, want)
		}
	}
	// Full precision without an index; whole microseconds in the index.
	r = DatetimeRange{GT: at("2024-01-01T00:00:00.0000001Z")}
	v := *at("2024-01-01T00:00:00.0000005Z")
	if !r.Contains(v) {
		t.Error("Contains compares below a microsecond")
	}
	x := NewDatetimeIndex(IndexParams{Type: TypeDatetime})
	x.Set(1, []Value{StringValue("2024-01-01T00:00:00.0000005Z")})
	if !x.Range(r).IsEmpty() {
		t.Error("index should compare whole microseconds")
	}
	if DatetimeMicros(*at("1969-12-31T23:59:59.9999995Z")) != -1 {
		t.Error("micros round down before the epoch")
	}
}

func FuzzParseDatetime(f *testing.F) {
	for _, s := range []string{"2024-01-02T03:04:05Z", "2024-01-02 03:04", "+2024-1-2t3:4:5.123 UTC", "2024-01-02T03:04:05+01", "-0001-12-31"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseDatetime(s)
		if err != nil {
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("ParseDatetime(%q) not in UTC", s)
		}
		// What RFC 3339 prints, ParseDatetime reads back.
		if y := got.Year(); y >= 0 && y <= 9999 {
			back, err := ParseDatetime(got.Format(time.RFC3339Nano))
			if err != nil || !back.Equal(got) {
				t.Fatalf("round trip of %q: %v, %v", s, back, err)
			}
		}
	})
}
