package fuzzy

import "testing"

func TestDistance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		max  int
		want int
	}{
		{"lisinopril", "lisinopril", 3, 0},
		{"lisinoprill", "lisinopril", 3, 1},
		{"alprazaolam", "alprazolam", 3, 1},
		{"gapapentin", "gabapentin", 3, 1},
		{"acetominophen", "acetaminophen", 3, 1},
		{"teh", "the", 3, 1}, // a transposition is one edit
		{"abc", "xyz", 1, 2}, // stops early at max+1
		{"", "abc", 5, 3},
	}
	for _, tc := range tests {
		if got := Distance(tc.a, tc.b, tc.max); got != tc.want {
			t.Errorf("Distance(%q, %q, %d) = %d, want %d", tc.a, tc.b, tc.max, got, tc.want)
		}
	}
}
