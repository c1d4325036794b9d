package main

import (
	"strconv"

	"github.com/spf13/pflag"
)

// describedDefault is a flag value whose default is described in words
// ("all cores") rather than printed as its placeholder number, so help
// shows one "(default ...)" that is true on every machine instead of
// "(default: all cores) (default 2)" or a sentinel like "(default -1)".
type describedDefault[T int | float64] struct {
	p     *T
	def   string
	parse func(string) (T, error)
	set   bool
}

func (d *describedDefault[T]) String() string {
	if !d.set {
		return d.def
	}
	switch v := any(*d.p).(type) {
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return d.def
}

func (d *describedDefault[T]) Set(s string) error {
	v, err := d.parse(s)
	if err != nil {
		return err
	}
	*d.p, d.set = v, true
	return nil
}

func (d *describedDefault[T]) Type() string {
	if _, ok := any(*d.p).(int); ok {
		return "int"
	}
	return "float"
}

// intVarDescribed defines an int flag starting at value whose help shows
// def as its default.
func intVarDescribed(fs *pflag.FlagSet, p *int, name string, value int, def, usage string) {
	*p = value
	fs.Var(&describedDefault[int]{p: p, def: def, parse: strconv.Atoi}, name, usage)
}

// floatVarDescribed is intVarDescribed for float64 flags.
func floatVarDescribed(fs *pflag.FlagSet, p *float64, name string, value float64, def, usage string) {
	*p = value
	fs.Var(&describedDefault[float64]{p: p, def: def, parse: func(s string) (float64, error) {
		return strconv.ParseFloat(s, 64)
	}}, name, usage)
}
