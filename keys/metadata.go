package keys

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// Bounds of a key's metadata ([Key].Metadata).
const (
	maxMetadataBytes = 4096 // serialized, compact
	maxMetadataDepth = 4    // nested objects and arrays, the top object included
	maxMetadataKeys  = 64   // object members, at every depth together
)

// checkMetadata returns raw as stored: a JSON object re-encoded compact
// (members sorted, numbers as written), or a [*FieldError] naming the
// limit it breaks. An empty object, or nothing, is no metadata (nil).
func checkMetadata(raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	if len(raw) > 4*maxMetadataBytes {
		return nil, metadataError("at most " + strconv.Itoa(maxMetadataBytes) + " bytes of compact JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return nil, metadataError("metadata is one JSON object")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, metadataError("metadata is a JSON object, such as {\"environment\": \"staging\"}")
	}
	if len(obj) == 0 {
		return nil, nil
	}
	keys := 0
	if depth := measure(obj, 1, &keys); depth > maxMetadataDepth {
		return nil, metadataError("at most " + strconv.Itoa(maxMetadataDepth) + " levels of nested objects and arrays")
	}
	if keys > maxMetadataKeys {
		return nil, metadataError("at most " + strconv.Itoa(maxMetadataKeys) + " keys in all, nested ones included")
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return nil, metadataError("metadata is a JSON object")
	}
	// Was a bug, fixed: a number beyond float64 ({"a":1e999}) was kept as
	// written (UseNumber), and an app's json.Unmarshal of it failed.
	if err := json.Unmarshal(out, new(any)); err != nil {
		return nil, metadataError("numbers fit a 64-bit float (at most about 1.8e308 in size)")
	}
	if len(out) > maxMetadataBytes {
		return nil, metadataError("at most " + strconv.Itoa(maxMetadataBytes) + " bytes of compact JSON; this is " + strconv.Itoa(len(out)))
	}
	return out, nil
}

// measure returns the depth of v (a scalar: level - 1) and adds the
// object members it holds to keys. It stops descending past the limit.
func measure(v any, level int, keys *int) int {
	if level > maxMetadataDepth+1 {
		return level
	}
	deepest := level
	switch v := v.(type) {
	case map[string]any:
		*keys += len(v)
		for _, e := range v {
			deepest = max(deepest, measure(e, level+1, keys))
		}
	case []any:
		for _, e := range v {
			deepest = max(deepest, measure(e, level+1, keys))
		}
	default:
		return level - 1
	}
	return deepest
}

func metadataError(reason string) *FieldError {
	return &FieldError{Field: "metadata", Reason: reason}
}
