// Package fhir is medscribe's FHIR R4 (4.0.1) model: Go types for the resources a
// dictation session emits, builders from extracted items, session transaction Bundles,
// a strict JSON parser and a validator whose structural rules come from the official
// StructureDefinitions and ValueSets.
//
// The types in zz_generated_types.go and the tables in zz_generated_tables.go are
// written by internal/gen from hl7.fhir.r4.core 4.0.1 (go generate ./fhir/...). JSON
// is written exactly as FHIR defines it: choice elements carry their type in the name
// (medicationCodeableConcept, effectiveDateTime), and empty strings, objects and arrays
// are left out rather than written as null, {} or [].
//
// Everything here imports only the standard library. Validation and parsing are safe
// for concurrent use; the values they return are not shared.
package fhir

//go:generate go run ./internal/gen -out .
