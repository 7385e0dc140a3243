package sqlstore

import (
	"encoding/json"
	"fmt"

	"github.com/keycaphq/keycap/policy"
)

// maxResourcesText bounds the JSON of one key's restriction to records:
// the most a valid restriction takes (policy.MaxRecords ids of
// policy.MaxRecordIDLength bytes, with room for names and quotes) fits in
// a TEXT column on every dialect (MySQL: 65,535 bytes).
const maxResourcesText = 60_000

// resourcesArg is a restriction to records as stored: JSON text, resources
// sorted (encoding/json sorts map keys), or NULL for none.
func resourcesArg(r policy.Resources) (any, error) {
	if len(r) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: resources: %w", err)
	}
	if len(b) > maxResourcesText {
		return nil, fmt.Errorf("sqlstore: the key's resources take %d bytes, more than %d", len(b), maxResourcesText)
	}
	return string(b), nil
}

// parseResources reads what resourcesArg wrote; nil for NULL.
func parseResources(b []byte) (policy.Resources, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var r policy.Resources
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	if len(r) == 0 {
		return nil, nil
	}
	for name, ids := range r {
		if ids == nil {
			r[name] = []string{} // an inherited empty list stays one
		}
	}
	return r, nil
}
