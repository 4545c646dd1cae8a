package guardagent

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// obj reads the members of one JSON object by exact, case-sensitive name, as pydantic
// does (encoding/json alone would also match "Event_Type" to event_type). It records
// the first problem as a 422 *Error naming the member's path, and which members it read,
// so that the rest can be kept as extras.
type obj struct {
	path string
	m    map[string]json.RawMessage
	seen map[string]bool
	err  *Error
}

// parseObject parses data, which must be a JSON object. Syntax errors are 400 at the top
// level (path "") and cannot occur below it, since the enclosing document was parsed
// already; a value of another type is 422.
func parseObject(data []byte, path string) (*obj, error) {
	if path == "" && !utf8.Valid(data) {
		return nil, errorf(http.StatusBadRequest, "body is not valid UTF-8")
	}
	d := bytes.TrimLeft(data, " \t\r\n")
	if len(d) > 0 && d[0] != '{' {
		if path == "" && !json.Valid(data) {
			return nil, errorf(http.StatusBadRequest, "body is not valid JSON")
		}
		return nil, typeError(path, "an object")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) || len(d) == 0 {
			return nil, &Error{Status: http.StatusBadRequest, Msg: "body is not valid JSON", Err: err}
		}
		return nil, &Error{Status: http.StatusUnprocessableEntity, Msg: at(path, "invalid object"), Err: err}
	}
	return &obj{path: path, m: m, seen: make(map[string]bool, len(m))}, nil
}

func at(path, msg string) string {
	if path == "" {
		return msg
	}
	return path + ": " + msg
}

func typeError(path, want string) *Error {
	return errorf(http.StatusUnprocessableEntity, "%s", at(path, "must be "+want))
}

func (o *obj) child(key string) string {
	if o.path == "" {
		return key
	}
	return o.path + "." + key
}

// raw returns the member's value, or nil when it is absent or null.
func (o *obj) raw(key string) json.RawMessage {
	o.seen[key] = true
	v, ok := o.m[key]
	if !ok || isNull(v) {
		return nil
	}
	return v
}

func isNull(v json.RawMessage) bool {
	return string(bytes.TrimSpace(v)) == "null"
}

func (o *obj) fail(e *Error) {
	if o.err == nil {
		o.err = e
	}
}

func (o *obj) missing(key string) {
	o.fail(errorf(http.StatusUnprocessableEntity, "%s", at(o.child(key), "field required")))
}

// unmarshal decodes the member into dst, reporting a type mismatch as want.
func (o *obj) unmarshal(key string, v json.RawMessage, dst any, want string) bool {
	if err := json.Unmarshal(v, dst); err != nil {
		e := typeError(o.child(key), want)
		e.Err = err
		o.fail(e)
		return false
	}
	return true
}

// str reads an optional string; absent and null leave dst unchanged. Null is accepted
// even where pydantic's field is not nullable (ip_address, action_taken, reason): the
// Go agent never sends null, and refusing would drop the whole batch for good.
func (o *obj) str(key string, dst *string) {
	if v := o.raw(key); v != nil {
		o.unmarshal(key, v, dst, "a string")
	}
}

func (o *obj) reqStr(key string, dst *string) {
	v := o.raw(key)
	if v == nil {
		o.missing(key)
		return
	}
	o.unmarshal(key, v, dst, "a string")
}

func (o *obj) time(key string, dst *time.Time, required bool) {
	v := o.raw(key)
	if v == nil {
		if required {
			o.missing(key)
		}
		return
	}
	var s string
	if !o.unmarshal(key, v, &s, "a datetime string") {
		return
	}
	t, err := ParseTime(s)
	if err != nil {
		o.fail(&Error{Status: http.StatusUnprocessableEntity, Msg: at(o.child(key), "invalid datetime"), Err: err})
		return
	}
	*dst = t
}

func (o *obj) int(key string, dst *int64, required bool) bool {
	v := o.raw(key)
	if v == nil {
		if required {
			o.missing(key)
		}
		return false
	}
	return o.unmarshal(key, v, dst, "an integer")
}

func (o *obj) float(key string, dst *float64, required bool) bool {
	v := o.raw(key)
	if v == nil {
		if required {
			o.missing(key)
		}
		return false
	}
	return o.unmarshal(key, v, dst, "a number")
}

func (o *obj) bool(key string, dst *bool) {
	if v := o.raw(key); v != nil {
		o.unmarshal(key, v, dst, "a boolean")
	}
}

// array reads an optional array of raw elements.
func (o *obj) array(key string) []json.RawMessage {
	v := o.raw(key)
	if v == nil {
		return nil
	}
	var a []json.RawMessage
	if !o.unmarshal(key, v, &a, "an array") {
		return nil
	}
	return a
}

// extras returns the members that were not read, or nil when there are none.
func (o *obj) extras() map[string]json.RawMessage {
	var x map[string]json.RawMessage
	for k, v := range o.m {
		if !o.seen[k] {
			if x == nil {
				x = make(map[string]json.RawMessage)
			}
			x[k] = v
		}
	}
	return x
}

func (o *obj) result() error {
	if o.err != nil {
		return o.err
	}
	return nil
}

// asError returns err as an *Error, wrapping an unexpected kind as 422.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Status: http.StatusUnprocessableEntity, Msg: "invalid value", Err: err}
}

func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
