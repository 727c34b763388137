package validate

import "testing"

func TestDate(t *testing.T) {
	tests := []struct {
		in, want, wantKind string
	}{
		{in: "2024-03-05", want: "2024-03-05"},
		{in: "2024-3-5", want: "2024-03-05"},
		{in: "2024/03/05", want: "2024-03-05"},
		{in: "2024/3/5", want: "2024-03-05"},
		{in: "2024.03.05", want: "2024-03-05"},
		{in: "20240305", want: "2024-03-05"},
		{in: "2024年3月5日", want: "2024-03-05"},
		{in: "2024年03月05", want: "2024-03-05"},
		{in: "2024年3月5号", want: "2024-03-05"},
		{in: "２０２４年３月５日", want: "2024-03-05"},
		{in: " 2024-03-05 ", want: "2024-03-05"},
		{in: "2024-03-05 00:00:00", want: "2024-03-05"},
		{in: "2024-02-29", want: "2024-02-29"},
		{in: "", wantKind: KindEmpty},
		{in: "2023-02-29", wantKind: KindDate},
		{in: "2024-13-01", wantKind: KindDate},
		{in: "2024-03-05 08:30", wantKind: KindDate},
		{in: "2024-03/05", wantKind: KindDate},
		{in: "03/05/2024", wantKind: KindDate},
		{in: "24-03-05", wantKind: KindDate},
		{in: "45356", wantKind: KindDate},
		{in: "1799-12-31", wantKind: KindDate},
		{in: "2024-003-05", wantKind: KindDate},
		{in: "2024年3月", wantKind: KindDate},
		{in: "2024-03-05\xff", wantKind: KindEncoding},
	}
	for _, tt := range tests {
		got, err := Date(tt.in)
		if tt.wantKind != "" {
			if KindOf(err) != tt.wantKind {
				t.Errorf("Date(%q) = %q, %v; want kind %s", tt.in, got, err, tt.wantKind)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Date(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestDateTime(t *testing.T) {
	tests := []struct {
		in, want, wantKind string
	}{
		{in: "2024-03-05 08:30:00", want: "2024-03-05 08:30:00"},
		{in: "2024-03-05 8:30", want: "2024-03-05 08:30:00"},
		{in: "2024/3/5 08:30:15.250", want: "2024-03-05 08:30:15"},
		{in: "2024-03-05T08:30:00+08:00", want: "2024-03-05 08:30:00"},
		{in: "2024-03-05T00:30:00Z", want: "2024-03-05 08:30:00"},
		{in: "2024-03-04T20:30:00-0400", want: "2024-03-05 08:30:00"},
		{in: "2024-03-05T08:30:00+08", want: "2024-03-05 08:30:00"},
		{in: "2024年3月5日 08:30", want: "2024-03-05 08:30:00"},
		{in: "20240305 083000", wantKind: KindDate},
		{in: "2024-03-05", want: "2024-03-05 00:00:00"},
		{in: "2024-03-05 24:00", wantKind: KindDate},
		{in: "2024-03-05 08:60", wantKind: KindDate},
		{in: "2024-03-05 08:30:00+15:00", wantKind: KindDate},
		{in: "2024-03-05 08:30 PM", wantKind: KindDate},
		{in: "", wantKind: KindEmpty},
	}
	for _, tt := range tests {
		got, err := DateTime(tt.in)
		if tt.wantKind != "" {
			if KindOf(err) != tt.wantKind {
				t.Errorf("DateTime(%q) = %q, %v; want kind %s", tt.in, got, err, tt.wantKind)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("DateTime(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
