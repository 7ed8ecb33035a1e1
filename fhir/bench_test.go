package fhir

import (
	"slices"
	"testing"
	"time"
)

func benchMedicationStatement(b *testing.B) *MedicationStatement {
	ms, err := NewMedicationStatement(MedicationItem{ID: "med-1", Text: "metformin 500 mg by mouth twice daily for 90 days",
		Code: Coding{System: SystemRxNorm, Code: "860975", Display: "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet"},
		Name: "metformin", Dose: Dose{Value: "500", Unit: "mg"}, Route: "po", Frequency: Frequency{Code: "BID"},
		Duration: Amount{Value: "90", Unit: "days"}}, testContext())
	if err != nil {
		b.Fatal(err)
	}
	return ms
}

// BenchmarkValidateMedicationStatement validates one builder-made MedicationStatement
// (narrative, coded medication, dose, route, timing) without terminology calls; the
// goal is 20 µs at the median. Each call is timed so the median (p50-ns) and p99-ns
// are reported beside the mean.
func BenchmarkValidateMedicationStatement(b *testing.B) {
	ms := benchMedicationStatement(b)
	v := &Validator{}
	if oo := v.Validate(ms); oo.HasErrors() {
		b.Fatalf("benchmark input has errors: %+v", oo.Issue)
	}
	b.ReportAllocs()
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		v.Validate(ms)
		times = append(times, time.Since(start))
	}
	reportPercentiles(b, times)
}

func reportPercentiles(b *testing.B, times []time.Duration) {
	if len(times) == 0 {
		return
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(times[len(times)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkValidateJSONMedicationStatement is the same from JSON bytes (no marshalling).
func BenchmarkValidateJSONMedicationStatement(b *testing.B) {
	data, err := Marshal(benchMedicationStatement(b))
	if err != nil {
		b.Fatal(err)
	}
	v := &Validator{}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		v.ValidateJSON(data)
		times = append(times, time.Since(start))
	}
	reportPercentiles(b, times)
}

// BenchmarkParseMedicationStatement reads one MedicationStatement strictly.
func BenchmarkParseMedicationStatement(b *testing.B) {
	data, err := Marshal(benchMedicationStatement(b))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseMedicationStatement(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMarshalMedicationStatement writes one MedicationStatement as FHIR JSON.
func BenchmarkMarshalMedicationStatement(b *testing.B) {
	ms := benchMedicationStatement(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(ms); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateSessionBundle validates the transaction Bundle of a session with
// the builders' sample items (16 resources plus patient, device and provenance).
func BenchmarkValidateSessionBundle(b *testing.B) {
	var bundle Resource
	for _, r := range sampleResources(b) {
		if bn, ok := r.(*Bundle); ok && len(bn.Entry) > 10 {
			bundle = bn
			break
		}
	}
	v := &Validator{}
	if oo := v.Validate(bundle); oo.HasErrors() {
		b.Fatalf("benchmark input has errors: %+v", oo.Issue)
	}
	b.ReportAllocs()
	for b.Loop() {
		v.Validate(bundle)
	}
}
