package terminology

import (
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Essential (primary) hypertension", "essential primary hypertension"},
		{"Lisinopril 10mg PO daily", "lisinopril 10 mg po daily"},
		{"T2DM", "t 2 dm"},
		{"Lanoxin 0.125mg", "lanoxin 0.125 mg"},
		{"end of sentence 5.", "end of sentence 5"},
		{"Diarrhoea and oedema", "diarrhea and edema"},
		{"gastroesophageal, oesophageal", "gastroesophageal esophageal"},
		{"type II diabetes, stage three", "type 2 diabetes stage 3"},
		{"I have type one", "i have type 1"},
		{"haemorrhage, anaemia", "hemorrhage anemia"},
		{"Paracetamol 500 mg", "acetaminophen 500 mg"},
		{"Salbutamol inhaler", "albuterol inhaler"},
		{"Sjögren's", "sjogren s"},
		{"  multiple   spaces\t", "multiple spaces"},
		{"p.r.n.", "p r n"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPhoneticKey(t *testing.T) {
	t.Parallel()
	// Spoken splits and mis-hearings must share the drug's key ...
	same := [][2]string{
		{"lysine april", "lisinopril"},
		{"met for men", "metformin"},
		{"lip it or", "lipitor"},
		{"zan ax", "xanax"},
		{"sin thyroid", "synthroid"},
		{"hydro chlorothiazide", "hydrochlorothiazide"},
		{"glip is eyed", "glipizide"},
		{"phenergan", "fenergan"},
	}
	for _, p := range same {
		a, b := PhoneticKey(Normalize(p[0])), PhoneticKey(Normalize(p[1]))
		if a != b {
			t.Errorf("PhoneticKey(%q) = %q, PhoneticKey(%q) = %q; want equal", p[0], a, p[1], b)
		}
	}
	// ... and different drugs must not.
	differ := [][2]string{
		{"lisinopril", "losartan"},
		{"metformin", "metoprolol"},
		{"hydroxyzine", "hydralazine"},
		{"clonidine", "klonopin"},
	}
	for _, p := range differ {
		if a, b := PhoneticKey(p[0]), PhoneticKey(p[1]); a == b {
			t.Errorf("PhoneticKey(%q) = PhoneticKey(%q) = %q; want different", p[0], p[1], a)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Lisinopril 10mg", "T2DM", "0.125 mg", "Sjögren", "\xff\xfe", "a.b.c", "diarrhoea", "aaemia", "Ÿ", "0 .5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q: not UTF-8", s, n)
		}
		if again := Normalize(n); again != n {
			t.Fatalf("Normalize not idempotent: %q -> %q -> %q", s, n, again)
		}
		_ = PhoneticKey(n)
	})
}
