package lenient_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/internal/lenient"
)

// decodeCase is one JSON value and what each type makes of it: the decoded
// text, or (when errText/errScalar is set) a refusal.
type decodeCase struct {
	json      string
	text      string
	errText   bool
	scalar    string
	errScalar string // the error message; "" when Scalar accepts
}

var decodeCases = []decodeCase{
	{json: `"AC000001"`, text: "AC000001", scalar: "AC000001"},
	{json: `""`, text: "", scalar: ""},
	{json: `" 7 "`, text: " 7 ", scalar: " 7 "}, // spaces inside a string are kept
	{json: `"caf\u00e9 \"q\" \n"`, text: "café \"q\" \n", scalar: "café \"q\" \n"},
	{json: "\"\xff\"", text: "\ufffd", scalar: "\ufffd"}, // invalid UTF-8, as encoding/json reads it
	{json: `1000001`, text: "1000001", scalar: "1000001"},
	{json: `2.50`, text: "2.50", scalar: "2.50"}, // exact text: no float round trip
	{json: `-0`, text: "-0", scalar: "-0"},
	{json: `1e3`, text: "1e3", scalar: "1e3"},
	{json: `1.5E+10`, text: "1.5E+10", scalar: "1.5E+10"},
	{json: `-2e-7`, text: "-2e-7", scalar: "-2e-7"},
	{json: `1e999`, text: "1e999", scalar: "1e999"}, // beyond float64: still just text
	{json: `123456789012345678901234567890`, text: "123456789012345678901234567890", scalar: "123456789012345678901234567890"},
	{json: " \t42\r\n", text: "42", scalar: "42"},
	{json: `null`, text: "", scalar: ""},
	{json: `true`, errText: true, scalar: "true"},
	{json: `false`, errText: true, scalar: "false"},
	{json: `{}`, errText: true, errScalar: "expected a string or a number, got an object"},
	{json: `{"v":"x"}`, errText: true, errScalar: "expected a string or a number, got an object"},
	{json: `[]`, errText: true, errScalar: "expected a string or a number, got an array"},
	{json: `["x"]`, errText: true, errScalar: "expected a string or a number, got an array"},
}

func TestTextAndScalar(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.json, func(t *testing.T) {
			text := lenient.Text("previous")
			err := text.UnmarshalJSON([]byte(tc.json))
			if tc.errText {
				var te *json.UnmarshalTypeError
				require.ErrorAs(t, err, &te)
				assert.Equal(t, "non-string", te.Value)
				assert.Equal(t, "string", te.Type.String())
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.text, string(text))
			}

			scalar := lenient.Scalar("previous")
			err = scalar.UnmarshalJSON([]byte(tc.json))
			if tc.errScalar != "" {
				require.EqualError(t, err, tc.errScalar)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.scalar, string(scalar))
			}
		})
	}
}

// TestInStructs checks the types as encoding/json uses them: as fields,
// pointers and slice elements.
func TestInStructs(t *testing.T) {
	var v struct {
		ID    lenient.Text    `json:"id"`
		Ref   *lenient.Text   `json:"ref"`
		Refs  []lenient.Text  `json:"refs"`
		Qty   lenient.Scalar  `json:"qty"`
		Ptr   *lenient.Scalar `json:"ptr"`
		Flag  lenient.Bool    `json:"flag"`
		FlagP *lenient.Bool   `json:"flagP"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"id":137001,"ref":null,"refs":[1,"2",null],"qty":2.50,"ptr":null,"flag":"Y","flagP":null}`), &v))
	assert.Equal(t, lenient.Text("137001"), v.ID)
	assert.Nil(t, v.Ref, "null leaves a pointer nil")
	assert.Equal(t, "", v.Ref.String(), "String on a nil *Text")
	assert.Equal(t, []lenient.Text{"1", "2", ""}, v.Refs)
	assert.Equal(t, lenient.Scalar("2.50"), v.Qty)
	assert.Nil(t, v.Ptr)
	assert.True(t, bool(v.Flag))
	assert.Nil(t, v.FlagP)

	// null in a non-pointer field empties it.
	v.ID, v.Qty, v.Flag = "x", "y", true
	require.NoError(t, json.Unmarshal([]byte(`{"id":null,"qty":null,"flag":null}`), &v))
	assert.Equal(t, lenient.Text(""), v.ID)
	assert.Equal(t, lenient.Scalar(""), v.Qty)
	assert.False(t, bool(v.Flag))

	// They encode as plain JSON strings.
	b, err := json.Marshal(struct {
		A lenient.Text
		B lenient.Scalar
	}{"1e3", "true"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"A":"1e3","B":"true"}`, string(b))
}

// TestTextRefusalNamesTheField: encoding/json completes Text's
// *json.UnmarshalTypeError with the field's path, which is what lets events
// and the simulator name the wrong field without quoting its value.
func TestTextRefusalNamesTheField(t *testing.T) {
	for _, raw := range []string{`true`, `false`, `{"secret":1}`, `["secret"]`} {
		var v struct {
			Data struct {
				JobRef *lenient.Text `json:"jobRef"`
			} `json:"data"`
		}
		err := json.Unmarshal([]byte(`{"data":{"jobRef":`+raw+`}}`), &v)
		var te *json.UnmarshalTypeError
		require.ErrorAs(t, err, &te, raw)
		assert.Equal(t, "data.jobRef", te.Field, raw)
		assert.Equal(t, "string", te.Type.String(), raw)
		assert.NotContains(t, err.Error(), "secret", raw)
	}
}

func TestScalarRefusalIsNotATypeError(t *testing.T) {
	var v struct {
		ID lenient.Scalar `json:"id"`
	}
	err := json.Unmarshal([]byte(`{"id":{"a":1}}`), &v)
	require.EqualError(t, err, "expected a string or a number, got an object")
	var te *json.UnmarshalTypeError
	assert.False(t, errors.As(err, &te))
}

func TestBool(t *testing.T) {
	for _, tc := range []struct {
		json string
		want bool
	}{
		{`true`, true}, {`"true"`, true}, {`"TRUE"`, true}, {`"True"`, true},
		{`1`, true}, {`"1"`, true}, {`"y"`, true}, {`"Y"`, true}, {`"yes"`, true}, {`"Yes"`, true}, {`" yes "`, true},
		{`false`, false}, {`"false"`, false}, {`"FALSE"`, false},
		{`0`, false}, {`"0"`, false}, {`"n"`, false}, {`"N"`, false}, {`"no"`, false}, {`"NO"`, false},
		{`""`, false}, {`" "`, false}, {`null`, false},
	} {
		v := lenient.Bool(!tc.want)
		require.NoError(t, v.UnmarshalJSON([]byte(tc.json)), tc.json)
		assert.Equal(t, tc.want, bool(v), tc.json)
	}
	for _, tc := range []struct{ json, err string }{
		{`2`, `"2" is not a boolean`},
		{`-1`, `"-1" is not a boolean`},
		{`1.0`, `"1.0" is not a boolean`},
		{`1e0`, `"1e0" is not a boolean`},
		{`"on"`, `"on" is not a boolean`},
		{`"t"`, `"t" is not a boolean`},
		{`{}`, `expected a string or a number, got an object`},
		{`[true]`, `expected a string or a number, got an array`},
	} {
		var v lenient.Bool
		require.EqualError(t, v.UnmarshalJSON([]byte(tc.json)), tc.err, tc.json)
	}
}

// TestNotOneJSONValue: encoding/json only ever passes one valid value, but a
// direct call with anything else is refused rather than taken as text.
func TestNotOneJSONValue(t *testing.T) {
	for _, raw := range []string{``, ` `, "0\f", "\u00a0\"x\"", `abc`, `"unterminated`, `01`, `1 2`, `"a" "b"`, `{`, `tru`, `nul`, `+1`, `.5`, `NaN`} {
		var text lenient.Text
		var te *json.UnmarshalTypeError
		require.ErrorAs(t, text.UnmarshalJSON([]byte(raw)), &te, "%q", raw)
		var scalar lenient.Scalar
		require.EqualError(t, scalar.UnmarshalJSON([]byte(raw)), "expected a string or a number, got invalid JSON", "%q", raw)
		var b lenient.Bool
		require.Error(t, b.UnmarshalJSON([]byte(raw)), "%q", raw)
	}
}

// FuzzDecode checks every type against the rules in the package comment,
// computed independently with encoding/json.
func FuzzDecode(f *testing.F) {
	for _, tc := range decodeCases {
		f.Add([]byte(tc.json))
	}
	for _, s := range []string{``, `abc`, `"Y"`, `"yes"`, `1.0`, `" 1 "`, `"\ud800"`, "\"\xff\xfe\"", `1 2`, ` null `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var text lenient.Text
		textErr := text.UnmarshalJSON(b)
		var scalar lenient.Scalar
		scalarErr := scalar.UnmarshalJSON(b)
		var boolean lenient.Bool
		boolErr := boolean.UnmarshalJSON(b)

		trimmed := bytes.TrimSpace(b)
		var value any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if !json.Valid(b) || dec.Decode(&value) != nil {
			if textErr == nil || scalarErr == nil || boolErr == nil {
				t.Fatalf("%q is not one JSON value but was accepted: %q %q %v", b, text, scalar, boolean)
			}
			return
		}
		want, textOK, scalarOK := "", false, false
		switch v := value.(type) {
		case string:
			want, textOK, scalarOK = v, true, true
		case json.Number:
			want, textOK, scalarOK = string(trimmed), true, true
			if v.String() != want {
				t.Fatalf("number %q read as %q", trimmed, v)
			}
		case nil:
			textOK, scalarOK = true, true
		case bool:
			want, scalarOK = string(trimmed), true
		}
		if textOK != (textErr == nil) || (textOK && string(text) != want) {
			t.Fatalf("Text(%q) = %q, %v; want %q (ok %v)", b, text, textErr, want, textOK)
		}
		var te *json.UnmarshalTypeError
		if textErr != nil && !errors.As(textErr, &te) {
			t.Fatalf("Text(%q) error %T, want *json.UnmarshalTypeError", b, textErr)
		}
		if scalarOK != (scalarErr == nil) || (scalarOK && string(scalar) != want) {
			t.Fatalf("Scalar(%q) = %q, %v; want %q (ok %v)", b, scalar, scalarErr, want, scalarOK)
		}
		if scalarErr != nil && !strings.HasPrefix(scalarErr.Error(), "expected a string or a number, got ") {
			t.Fatalf("Scalar(%q) error %q", b, scalarErr)
		}
		if scalarErr != nil {
			if boolErr == nil || boolErr.Error() != scalarErr.Error() {
				t.Fatalf("Bool(%q) error %v, want Scalar's %v", b, boolErr, scalarErr)
			}
			return
		}
		switch strings.ToLower(strings.TrimSpace(want)) {
		case "", "false", "0", "n", "no":
			if boolErr != nil || bool(boolean) {
				t.Fatalf("Bool(%q) = %v, %v; want false", b, boolean, boolErr)
			}
		case "true", "1", "y", "yes":
			if boolErr != nil || !bool(boolean) {
				t.Fatalf("Bool(%q) = %v, %v; want true", b, boolean, boolErr)
			}
		default:
			if boolErr == nil || boolErr.Error() != strconv.Quote(want)+" is not a boolean" {
				t.Fatalf("Bool(%q) = %v, %v; want a refusal", b, boolean, boolErr)
			}
		}
	})
}
