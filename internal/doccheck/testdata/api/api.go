// Package api is a fixture of Undocumented and API: each name says
// whether it is documented.
package api

// Doc is documented.
type Doc struct {
	// Doc1 is documented.
	Doc1   int
	Doc2   int // Doc2 is documented at the end of its line.
	Undoc1 int
	hidden int
	// Doc3 is documented.
	Doc3 struct {
		Undoc2 int
	}
	*Undoc3
}

type Undoc3 struct{ Undoc4, undoc int }

type (
	// Doc4 is documented.
	Doc4   int
	Undoc5 int
)

// These are documented by their group.
const (
	Doc5 = 1
	Doc6 = 2
)

const Undoc6, undoc7 = 3, 4

var Undoc7, Undoc8 int

// Doc7 is documented.
type Doc7 interface {
	// Doc8 is documented.
	Doc8()
	Undoc9() // a trailing comment does not document a method
	fmt
	hidden()
}

type fmt interface{ Hidden() }

type hidden struct{ Field int }

func (hidden) NotCounted() {}

func (Doc) Undoc10() {}

//go:noinline
func Undoc11() {}

// Doc9 is documented.
func Doc9[T any](t T) T { return t }

// Doc10 is documented.
type Doc10[K comparable, V any] map[K]V

func (Doc10[K, V]) Undoc12() {}

// Doc11 is documented.
func (*Undoc3) Doc11() {}

func unexported() {}
