// Package lenient decodes JSON scalars the way Oneserve writes them.
//
// Oneserve sends identifiers, quantities and counts as JSON strings in some
// places and as bare numbers in others ("jobRef":"1000001" here,
// "jobRef":1000001 there), and writes booleans as true, "true", 1, "1" or "Y".
// Every field O2O reads from Oneserve (API answers in package oneserve,
// Integration Events in package events, requests to the simulator) decodes
// through the types here, so that the rules live in one place:
//
//   - A JSON string decodes to its value; a number to its exact JSON text
//     ("2.50" stays "2.50", 1e3 stays "1e3", -0 stays "-0"), never through a
//     float, so no precision is lost and no format is invented.
//   - null decodes to "" (false for Bool). A null field of pointer type stays
//     nil: encoding/json does not call UnmarshalJSON for it.
//   - Objects and arrays are always refused.
//
// The two text types differ only in what they do with a JSON boolean and how
// they refuse:
//
//   - Text (the events' and the simulator's strict reading) refuses booleans,
//     objects and arrays with a *json.UnmarshalTypeError that encoding/json
//     completes with the field's name, so callers can say which field is
//     wrong without quoting its value.
//   - Scalar (the Oneserve client's tolerant reading) takes a boolean as its
//     text ("true", "false") and refuses objects and arrays with an error
//     naming the kind ("expected a string or a number, got an object").
//
// UnmarshalJSON is meant to be called by encoding/json, which passes exactly
// one valid JSON value; input that is not one JSON value is refused.
package lenient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// kind is the kind of one JSON value.
type kind int

const (
	kindInvalid kind = iota
	kindNull
	kindString
	kindNumber
	kindBool
	kindObject
	kindArray
)

// scalar reads one JSON value b. For a string it returns the decoded value,
// for a number or boolean its JSON text; otherwise "".
func scalar(b []byte) (string, kind) {
	if !json.Valid(b) {
		return "", kindInvalid
	}
	b = bytes.Trim(b, " \t\r\n") // JSON's white space, and only that
	switch b[0] {
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", kindInvalid
		}
		return s, kindString
	case '{':
		return "", kindObject
	case '[':
		return "", kindArray
	case 'n':
		return "", kindNull
	case 't', 'f':
		return string(b), kindBool
	default: // the only other valid JSON values are numbers
		return string(b), kindNumber
	}
}

// Text is a JSON string that also accepts a bare number, kept as its exact
// JSON text. null decodes to "". Booleans, objects and arrays are refused
// with a *json.UnmarshalTypeError (Value "non-string", Type string).
type Text string

var stringType = reflect.TypeOf("")

// UnmarshalJSON implements json.Unmarshaler.
func (t *Text) UnmarshalJSON(b []byte) error {
	s, k := scalar(b)
	switch k {
	case kindString, kindNumber, kindNull:
		*t = Text(s)
		return nil
	}
	return &json.UnmarshalTypeError{Value: "non-string", Type: stringType}
}

// String returns the text, or "" for a nil pointer (an absent field).
func (t *Text) String() string {
	if t == nil {
		return ""
	}
	return string(*t)
}

// Scalar is a JSON string, number or boolean read as text: a string as its
// value, a number or boolean as its exact JSON text. null decodes to "".
// Objects and arrays are refused with an error naming the kind.
type Scalar string

// UnmarshalJSON implements json.Unmarshaler.
func (s *Scalar) UnmarshalJSON(b []byte) error {
	v, k := scalar(b)
	switch k {
	case kindString, kindNumber, kindBool, kindNull:
		*s = Scalar(v)
		return nil
	case kindObject:
		return fmt.Errorf("expected a string or a number, got an object")
	case kindArray:
		return fmt.Errorf("expected a string or a number, got an array")
	}
	return fmt.Errorf("expected a string or a number, got invalid JSON")
}

// Bool is a boolean as Oneserve writes it. Read as a Scalar, then, ignoring
// case and surrounding spaces: "true", "1", "y" and "yes" are true; "false",
// "0", "n", "no" and "" (so also null) are false. Anything else (2, 1.0,
// "on") is refused, quoting the value.
type Bool bool

// UnmarshalJSON implements json.Unmarshaler.
func (v *Bool) UnmarshalJSON(b []byte) error {
	var s Scalar
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(string(s))) {
	case "", "false", "0", "n", "no":
		*v = false
	case "true", "1", "y", "yes":
		*v = true
	default:
		return fmt.Errorf("%q is not a boolean", string(s))
	}
	return nil
}
