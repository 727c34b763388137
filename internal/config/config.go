package config

import (
	"flag"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// EnvPrefix is the prefix of every environment variable the binder reads.
const EnvPrefix = "CITYPULSE_"

// EnvName returns the environment variable that sets the flag name, e.g. "clickhouse-addr" →
// "CITYPULSE_CLICKHOUSE_ADDR".
func EnvName(flagName string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Bind registers a flag on fs for every field of the struct that ptr points to (recursively into
// nested structs) that has a `flag` tag. The current field values are the defaults; a set
// CITYPULSE_* variable replaces the default before flags are parsed. It returns an error naming the
// variable when an environment value does not parse, or when a tagged field has an unsupported type.
func Bind(fs *flag.FlagSet, ptr any) error {
	v := reflect.ValueOf(ptr)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("config.Bind: want a pointer to a struct, got %T", ptr)
	}
	return bindStruct(fs, v.Elem())
}

var durationType = reflect.TypeOf(time.Duration(0))

func bindStruct(fs *flag.FlagSet, v reflect.Value) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		fv := v.Field(i)
		name := f.Tag.Get("flag")
		if name == "" {
			if fv.Kind() == reflect.Struct && f.Type != durationType {
				if err := bindStruct(fs, fv); err != nil {
					return err
				}
			}
			continue
		}
		help := f.Tag.Get("help")
		env := EnvName(name)
		usage := fmt.Sprintf("%s (env %s)", help, env)
		val := &value{v: fv}
		if err := val.check(); err != nil {
			return fmt.Errorf("config field %s (flag -%s): %w", f.Name, name, err)
		}
		if s, ok := os.LookupEnv(env); ok {
			if err := val.Set(s); err != nil {
				return fmt.Errorf("environment %s=%q: %w", env, s, err)
			}
		}
		fs.Var(val, name, usage)
	}
	return nil
}

// value adapts one struct field to flag.Value.
type value struct{ v reflect.Value }

func (p *value) check() error {
	if p.v.Type() == durationType {
		return nil
	}
	switch p.v.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint32, reflect.Uint64, reflect.Float64:
		return nil
	case reflect.Slice:
		if p.v.Type().Elem().Kind() == reflect.String {
			return nil
		}
	}
	return fmt.Errorf("unsupported type %s", p.v.Type())
}

func (p *value) String() string {
	if !p.v.IsValid() {
		return ""
	}
	if p.v.Type() == durationType {
		return time.Duration(p.v.Int()).String()
	}
	switch p.v.Kind() {
	case reflect.Slice:
		return strings.Join(p.v.Interface().([]string), ",")
	default:
		return fmt.Sprint(p.v.Interface())
	}
}

func (p *value) IsBoolFlag() bool { return p.v.IsValid() && p.v.Kind() == reflect.Bool }

func (p *value) Set(s string) error {
	if p.v.Type() == durationType {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("not a duration (e.g. 5s, 2m): %w", err)
		}
		p.v.SetInt(int64(d))
		return nil
	}
	switch p.v.Kind() {
	case reflect.String:
		p.v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("not a boolean (true or false)")
		}
		p.v.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, p.v.Type().Bits())
		if err != nil {
			return fmt.Errorf("not an integer")
		}
		p.v.SetInt(n)
	case reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(strings.ReplaceAll(s, "_", ""), 10, p.v.Type().Bits())
		if err != nil {
			return fmt.Errorf("not a non-negative integer")
		}
		p.v.SetUint(n)
	case reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("not a number")
		}
		p.v.SetFloat(f)
	case reflect.Slice:
		var items []string
		for _, it := range strings.Split(s, ",") {
			if it = strings.TrimSpace(it); it != "" {
				items = append(items, it)
			}
		}
		p.v.Set(reflect.ValueOf(items))
	}
	return nil
}
