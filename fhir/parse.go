package fhir

import (
	"fmt"
	"reflect"
)

// unmarshalResource reads JSON into a generated resource (json.Unmarshal support).
func unmarshalResource(data []byte, r Resource) error {
	root, err := parseJSON(data)
	if err != nil {
		return fmt.Errorf("unmarshal %s: %w", r.ResourceType(), err)
	}
	if rt := root.get("resourceType"); root.kind == nodeObject && (rt == nil || rt.str != r.ResourceType()) {
		return fmt.Errorf("unmarshal %s: resourceType is not %q", r.ResourceType(), r.ResourceType())
	}
	if err := decodeObject(&root, reflect.ValueOf(r).Elem(), data, r.ResourceType(), true); err != nil {
		return fmt.Errorf("unmarshal %s: %w", r.ResourceType(), err)
	}
	return nil
}

// unmarshalValue reads JSON into a generated data type (json.Unmarshal support).
func unmarshalValue(data []byte, t typeIndex, v any) error {
	root, err := parseJSON(data)
	if err != nil {
		return fmt.Errorf("unmarshal %s: %w", typeTable[t].name, err)
	}
	if err := decodeObject(&root, reflect.ValueOf(v).Elem(), data, typeTable[t].name, false); err != nil {
		return fmt.Errorf("unmarshal %s: %w", typeTable[t].name, err)
	}
	return nil
}
