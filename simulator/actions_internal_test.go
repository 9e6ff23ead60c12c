package simulator

import (
	"encoding/json"
	"testing"
)

// eventReply must add "eventId" as the reply's last field, as the /sim
// answers did when each handler embedded the record beside an EventID.
func TestEventReplyAddsEventIDLast(t *testing.T) {
	for _, tc := range []struct {
		reply any
		want  string
	}{
		{struct {
			A string `json:"a"`
			B string `json:"b"`
		}{"1", "<2>"}, `{"a":"1","b":"\u003c2\u003e","eventId":"e\"1"}`},
		{struct{}{}, `{"eventId":"e\"1"}`},
	} {
		got, err := json.Marshal(eventReply{tc.reply, `e"1`})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("got %s, want %s", got, tc.want)
		}
	}
}
