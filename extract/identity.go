package extract

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/medscribe/medscribe/fhir"
)

// idTable gives one id to one thing mentioned again: a drug by its
// ingredients, a condition by its code, otherwise by its name; a relative's
// condition also by the relative. The zero value is ready to use.
type idTable struct {
	mu  sync.Mutex
	ids map[string]string // identity key → item id
	n   int
}

var idPrefix = map[string]string{KindMedication: "med", KindCondition: "cond", KindAllergy: "allergy", KindFamily: "fhx"}

// id returns d's id, making a new one ("med-3") for a thing not seen
// before. ingredients stand in for d.Ingredients when the caller resolved
// them.
func (t *idTable) id(d Description, ingredients []fhir.Coding) string {
	key := d.Kind + ":"
	switch {
	case len(ingredients) > 0:
		codes := make([]string, 0, len(ingredients))
		for _, in := range ingredients {
			codes = append(codes, in.Code)
		}
		sort.Strings(codes)
		key += "rx:" + strings.Join(codes, "+")
	case d.Code.Code != "":
		key += d.Code.Code
	default:
		key += "name:" + strings.ToLower(strings.Join(strings.Fields(d.Name), " "))
	}
	if d.Kind == KindFamily {
		key += ":" + strings.ToLower(d.Relative)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.ids[key]; ok {
		return id
	}
	if t.ids == nil {
		t.ids = map[string]string{}
	}
	t.n++
	id := fmt.Sprintf("%s-%d", idPrefix[d.Kind], t.n)
	t.ids[key] = id
	return id
}
