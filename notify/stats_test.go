package notify

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestStatsAddCoversEveryField guards Add against a counter added to
// Stats and forgotten there.
func TestStatsAddCoversEveryField(t *testing.T) {
	var a, b Stats
	va, vb := reflect.ValueOf(&a).Elem(), reflect.ValueOf(&b).Elem()
	for i := range va.NumField() {
		va.Field(i).SetUint(uint64(i + 1))
		vb.Field(i).SetUint(uint64(100 * (i + 1)))
	}
	sum := reflect.ValueOf(a.Add(b))
	for i := range sum.NumField() {
		assert.Equal(t, uint64(101*(i+1)), sum.Field(i).Uint(), reflect.TypeFor[Stats]().Field(i).Name)
	}
}
