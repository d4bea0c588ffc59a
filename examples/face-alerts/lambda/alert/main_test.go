package main

import (
	"strings"
	"testing"
	"time"

	"github.com/lakekit/lakekit/rekog"
)

func TestOptionsFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	topic, o, err := optionsFromEnv(env(map[string]string{"TOPIC_ARN": "arn:t", "ALERT_MODE": "unknown",
		"KNOWN_WINDOW": "90s", "UNKNOWN_LIMIT": "2", "UNKNOWN_INTERVAL": "10m", "MATCH_THRESHOLD": "92.5"}))
	if err != nil || topic != "arn:t" || o.Mode != rekog.AlertUnknown || o.KnownWindow != 90*time.Second ||
		o.UnknownLimit != 2 || o.UnknownInterval != 10*time.Minute || o.Classifier.Threshold != 92.5 {
		t.Fatalf("%q %+v %v", topic, o, err)
	}
	_, _, err = optionsFromEnv(env(map[string]string{"ALERT_MODE": "all", "KNOWN_WINDOW": "soon", "MATCH_THRESHOLD": "120"}))
	for _, want := range []string{"TOPIC_ARN", "ALERT_MODE", "KNOWN_WINDOW", "MATCH_THRESHOLD"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}
