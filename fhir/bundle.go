package fhir

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// SessionIdentifierSystem is the identifier system of medscribe session ids, used in
// Bundle.identifier and in the Provenance entity that names the session.
const SessionIdentifierSystem = "urn:medscribe:session"

// SoftwareName is the device name medscribe records in Provenance.
const SoftwareName = "medscribe"

// Session describes the dictation session a Bundle records.
type Session struct {
	// ID is the session id (required).
	ID string
	// Patient is the patient the session is about. Nil adds a placeholder Patient entry
	// whose fullUrl is PlaceholderPatientReference(ID).
	Patient *Reference
	// Recorded is when the bundle was assembled: Bundle.timestamp and
	// Provenance.recorded (required; no clock is read).
	Recorded time.Time
	// Version is medscribe's version.
	Version string
	// Models are the models that produced the content, in the order they should be listed.
	Models []ModelVersion
}

// ModelVersion names one model, e.g. {Role: "speech", Name: "ggml-base.en-q5_1"}.
type ModelVersion struct {
	Role string
	Name string
}

// ErrInvalidSession is wrapped by NewSessionBundle errors about the Session itself.
var ErrInvalidSession = errors.New("invalid session")

// uuidNamespace is the name-based UUID namespace of medscribe (a fixed random UUID), so
// that fullUrls depend only on the session and the resource.
var uuidNamespace = [16]byte{0x6f, 0x1e, 0x0c, 0x2a, 0x93, 0x4d, 0x4b, 0x8e, 0xa5, 0x07, 0x2c, 0x61, 0xd8, 0x3f, 0x90, 0x14}

// nameUUID is an RFC 9562 version 5 (SHA-1, name-based) UUID URN.
func nameUUID(parts ...string) string {
	h := sha1.New()
	h.Write(uuidNamespace[:])
	h.Write([]byte(strings.Join(parts, "\x00")))
	sum := h.Sum(nil)
	sum[6] = sum[6]&0x0f | 0x50
	sum[8] = sum[8]&0x3f | 0x80
	x := hex.EncodeToString(sum[:16])
	return "urn:uuid:" + x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// PlaceholderPatientReference is the subject to use for a session without a known
// patient. NewSessionBundle adds a placeholder Patient entry with this fullUrl, so the
// reference resolves inside the Bundle.
func PlaceholderPatientReference(sessionID string) Reference {
	return Reference{Reference: nameUUID(sessionID, "Patient"), Display: "Unidentified patient"}
}

// NewSessionBundle builds the transaction Bundle of a session: one POST entry per
// resource (urn:uuid fullUrls; references between them rewritten to those fullUrls), the
// patient (the given reference, or a placeholder Patient entry), a Device naming
// medscribe and its models, and a Provenance that targets every resource and names the
// device and the session. Resources are copied; the caller's values are not changed.
// Resources without a subject get the session's patient, and when Patient is given,
// references to the session's placeholder patient are replaced by it.
func NewSessionBundle(s Session, resources []Resource) (*Bundle, error) {
	if s.ID == "" {
		return nil, fmt.Errorf("session bundle: empty session id: %w", ErrInvalidSession)
	}
	if s.Recorded.IsZero() {
		return nil, fmt.Errorf("session bundle %s: no recorded time: %w", s.ID, ErrInvalidSession)
	}
	fullURL := map[string]string{} // reference to rewrite ("Type/id") -> what it becomes
	b := &Bundle{
		Identifier: &Identifier{System: SessionIdentifierSystem, Value: s.ID},
		Type:       "transaction",
		Timestamp:  formatDateTime(s.Recorded),
	}
	placeholder := PlaceholderPatientReference(s.ID)
	subject := placeholder
	if s.Patient != nil {
		subject = *s.Patient
		// Items built before the patient was known point at the placeholder.
		fullURL[placeholder.Reference] = s.Patient.Reference
	} else {
		p := &Patient{
			ID:   "placeholder",
			Text: narrative("Patient", "not identified in dictation session "+s.ID),
		}
		b.Entry = append(b.Entry, postEntry(subject.Reference, p))
	}
	device := sessionDevice(s)
	deviceURL := nameUUID(s.ID, "Device")
	b.Entry = append(b.Entry, postEntry(deviceURL, device))

	// Copy the resources, then give each a fullUrl and index it by type/id.
	copies := make([]Resource, len(resources))
	urls := make([]string, len(resources))
	for i, r := range resources {
		c, err := copyResource(r)
		if err != nil {
			return nil, fmt.Errorf("session bundle %s: resource %d: %w", s.ID, i, err)
		}
		copies[i] = c
		if id := resourceIDOf(c); id != "" {
			key := c.ResourceType() + "/" + id
			if _, dup := fullURL[key]; dup {
				return nil, fmt.Errorf("session bundle %s: two resources are %s: %w", s.ID, key, ErrInvalidSession)
			}
			urls[i] = nameUUID(s.ID, key)
			fullURL[key] = urls[i]
		} else {
			urls[i] = nameUUID(s.ID, c.ResourceType(), fmt.Sprint("#", i))
		}
	}
	var targets []Reference
	for i, c := range copies {
		setSubject(c, subject)
		rewriteReferences(c, fullURL)
		b.Entry = append(b.Entry, postEntry(urls[i], c))
		targets = append(targets, Reference{Reference: urls[i]})
	}
	if len(targets) > 0 {
		prov := &Provenance{
			ID:       "session",
			Target:   targets,
			Recorded: formatDateTime(s.Recorded),
			Activity: concept(systemDataOperation, "CREATE", "create"),
			Agent: []ProvenanceAgent{{
				Type: concept(systemProvAgentType, "assembler", "Assembler"),
				Who:  &Reference{Reference: deviceURL, Display: SoftwareName},
			}},
			Entity: []ProvenanceEntity{{
				Role: "source",
				What: &Reference{
					Identifier: &Identifier{System: SessionIdentifierSystem, Value: s.ID},
					Display:    "dictation session " + s.ID,
				},
			}},
		}
		prov.Text = narrative("Provenance", fmt.Sprintf("%d resources assembled by %s from dictation session %s",
			len(targets), SoftwareName, s.ID))
		b.Entry = append(b.Entry, postEntry(nameUUID(s.ID, "Provenance"), prov))
	}
	return b, nil
}

func postEntry(fullURL string, r Resource) BundleEntry {
	return BundleEntry{
		FullURL:  fullURL,
		Resource: r,
		Request:  &BundleEntryRequest{Method: "POST", URL: r.ResourceType()},
	}
}

// sessionDevice is the Device that stands for medscribe and its models.
func sessionDevice(s Session) *Device {
	d := &Device{
		ID:         "medscribe",
		DeviceName: []DeviceDeviceName{{Name: SoftwareName, Type: "manufacturer-name"}},
		Type:       &CodeableConcept{Text: "clinical dictation software"},
	}
	if s.Version != "" {
		d.Version = append(d.Version, DeviceVersion{Type: &CodeableConcept{Text: SoftwareName}, Value: s.Version})
	}
	var rows []string
	for _, m := range s.Models {
		if m.Name == "" {
			continue
		}
		role := firstNonEmpty(m.Role, "model")
		d.Version = append(d.Version, DeviceVersion{Type: &CodeableConcept{Text: role + " model"}, Value: m.Name})
		rows = append(rows, role+": "+m.Name)
	}
	d.Text = narrative("Device", SoftwareName+" "+s.Version, "Models", strings.Join(rows, "; "))
	return d
}

// copyResource deep-copies a resource through its JSON form.
func copyResource(r Resource) (Resource, error) {
	data, err := Marshal(r)
	if err != nil {
		return nil, err
	}
	root, err := parseJSON(data)
	if err != nil {
		return nil, fmt.Errorf("copy %s: %w", r.ResourceType(), err)
	}
	return decodeResource(&root, data, r.ResourceType())
}

// resourceIDOf returns the id of a generated resource, or "" for a RawResource.
func resourceIDOf(r Resource) string {
	v := reflect.ValueOf(r)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return ""
	}
	f := v.Elem().FieldByName("ID")
	if !f.IsValid() || f.Kind() != reflect.String {
		return ""
	}
	return f.String()
}

// setSubject fills the patient reference of the resources that must have one.
func setSubject(r Resource, subject Reference) {
	ref := subject
	switch x := r.(type) {
	case *MedicationStatement:
		if x.Subject == nil {
			x.Subject = &ref
		}
	case *Condition:
		if x.Subject == nil {
			x.Subject = &ref
		}
	case *AllergyIntolerance:
		if x.Patient == nil {
			x.Patient = &ref
		}
	case *FamilyMemberHistory:
		if x.Patient == nil {
			x.Patient = &ref
		}
	case *MedicationRequest:
		if x.Subject == nil {
			x.Subject = &ref
		}
	}
}

var referenceType = reflect.TypeFor[Reference]()

// rewriteReferences replaces "Type/id" references to resources in the bundle with their
// fullUrl, so that the server links the created resources.
func rewriteReferences(r Resource, fullURL map[string]string) {
	v := reflect.ValueOf(r)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return
	}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Slice:
			if v.Type().Elem().Kind() == reflect.Uint8 {
				return
			}
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		case reflect.Struct:
			if v.Type() == referenceType {
				ref := v.FieldByName("Reference")
				if u, ok := fullURL[ref.String()]; ok {
					ref.SetString(u)
				}
			}
			for i := 0; i < v.NumField(); i++ {
				walk(v.Field(i))
			}
		}
	}
	walk(v.Elem())
}
