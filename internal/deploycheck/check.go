package deploycheck

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// Problem is one thing a template gets wrong, at a path such as
// Resources.AppRole.Properties.Policies[0].
type Problem struct{ Path, Msg string }

func (p Problem) String() string { return p.Path + ": " + p.Msg }

// Result is what Check found in one template.
type Result struct {
	Template  string
	Resources map[string]string // logical id → type
	// Newer lists the properties the cfnspec predates that goformation's
	// schema (generated from a later specification) has.
	Newer    []string
	Problems []Problem
}

// OK reports whether the template passed every check.
func (r *Result) OK() bool { return len(r.Problems) == 0 }

type checker struct {
	spec     *Spec
	root     string // repository root, for CodeUri
	dir      string // the template's folder
	params   map[string]bool
	conds    map[string]bool
	res      map[string]string // logical id → type, SAM's implicit resources included
	out      *Result
	problems *[]Problem
}

var pseudo = map[string]bool{"AWS::AccountId": true, "AWS::NotificationARNs": true, "AWS::NoValue": true, "AWS::Partition": true,
	"AWS::Region": true, "AWS::StackId": true, "AWS::StackName": true, "AWS::URLSuffix": true}

// Check parses the template at path with goformation (typed SAM and
// CloudFormation resources) and checks it against the specification: every
// resource type exists; every property exists for its type with the right
// shape; required properties are set; Ref, Fn::GetAtt, Fn::Sub and Fn::If
// name what is defined; every IAM action is a real action of its service,
// none is a wildcard, and every statement is scoped to resources of the
// services its actions act on ("*" only for actions that take no resource);
// every Lambda's CodeUri is a package `make lambdas` builds, for the
// runtime and architecture it builds for. root is the repository root.
func (s *Spec) Check(path, root string) (*Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rel, _ := filepath.Rel(root, path)
	out := &Result{Template: filepath.ToSlash(rel), Resources: map[string]string{}}
	c := &checker{spec: s, root: root, dir: filepath.Dir(path), out: out, problems: &out.Problems,
		params: map[string]bool{}, conds: map[string]bool{}, res: map[string]string{}}
	js, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		c.problem("(yaml)", "%v", err)
		return out, nil
	}
	var t map[string]any
	if err := json.Unmarshal(js, &t); err != nil {
		return nil, err
	}
	// goformation resolves a Ref to a parameter's default, so a Number
	// parameter reaches a string property as a number and is refused,
	// where CloudFormation would pass it as a string: such values go
	// through !Sub "${Param}" in the templates.
	if _, err := goformation.ParseYAML(data); err != nil {
		c.problem("(goformation)", "%v", err)
	}
	c.run(t)
	sort.Slice(out.Problems, func(i, j int) bool { return out.Problems[i].String() < out.Problems[j].String() })
	return out, nil
}

func (c *checker) problem(path, format string, args ...any) {
	*c.problems = append(*c.problems, Problem{path, fmt.Sprintf(format, args...)})
}

func (c *checker) run(t map[string]any) {
	for k := range asMap(t["Parameters"]) {
		c.params[k] = true
	}
	for k := range asMap(t["Conditions"]) {
		c.conds[k] = true
	}
	resources := asMap(t["Resources"])
	if len(resources) == 0 {
		c.problem("Resources", "no resources")
	}
	for id, r := range resources {
		typ, _ := asMap(r)["Type"].(string)
		c.res[id] = typ
		c.out.Resources[id] = typ
		if (typ == "AWS::Serverless::Function" || typ == "AWS::Serverless::StateMachine") && asMap(r)["Properties"] != nil {
			if _, hasRole := asMap(asMap(r)["Properties"])["Role"]; !hasRole {
				c.res[id+"Role"] = "AWS::IAM::Role" // SAM's implicit role
			}
		}
	}
	globals := asMap(t["Globals"])
	for _, id := range sortedKeys(resources) {
		r := asMap(resources[id])
		path := "Resources." + id
		typ, _ := r["Type"].(string)
		rt, ok := c.spec.ResourceTypes[typ]
		if !ok {
			c.problem(path+".Type", "no resource type %q in the CloudFormation specification %s", typ, c.spec.Version)
			continue
		}
		props := asMap(r["Properties"])
		if g, ok := globals[strings.TrimPrefix(typ, "AWS::Serverless::")]; ok && strings.HasPrefix(typ, "AWS::Serverless::") {
			props = merge(asMap(g), props)
		}
		if cond, ok := r["Condition"].(string); ok && !c.conds[cond] {
			c.problem(path+".Condition", "no condition %q", cond)
		}
		for _, d := range asList(r["DependsOn"]) {
			if s, _ := d.(string); c.res[s] == "" {
				c.problem(path+".DependsOn", "no resource %q", d)
			}
		}
		shapes := []shape{{ns: typ, props: rt.Properties, key: typ}}
		if pass, ok := samPassThrough[typ]; ok {
			shapes = append(shapes, shape{ns: pass, props: c.spec.ResourceTypes[pass].Properties, key: pass})
		}
		c.checkObject(path+".Properties", props, shapes)
		c.checkPolicies(path, typ, props)
		if typ == "AWS::Serverless::Function" {
			c.checkCode(path+".Properties", props)
		}
	}
	c.walk("", t)
}

// samPassThrough: SAM hands the properties its own specification does not
// list to the resource it generates.
var samPassThrough = map[string]string{
	"AWS::Serverless::Function":     "AWS::Lambda::Function",
	"AWS::Serverless::StateMachine": "AWS::StepFunctions::StateMachine",
	"AWS::Serverless::SimpleTable":  "AWS::DynamoDB::Table",
	"AWS::Serverless::LayerVersion": "AWS::Lambda::LayerVersion",
}

// samEvents maps a SAM event's Type to its specification type; the
// stream and queue events also take the properties of the event source
// mapping SAM generates for them.
var samEvents = map[string]string{"S3": "S3Event", "SNS": "SNSEvent", "SQS": "SQSEvent", "Kinesis": "KinesisEvent",
	"DynamoDB": "DynamoDBEvent", "Api": "ApiEvent", "Schedule": "ScheduleEvent", "CloudWatchEvent": "CloudWatchEventEvent",
	"CloudWatchLogs": "CloudWatchLogsEvent", "IoTRule": "IoTRuleEvent", "AlexaSkill": "AlexaSkillEvent",
	"EventBridgeRule": "EventBridgeRuleEvent", "HttpApi": "HttpApiEvent"}

type shape struct {
	ns    string // the resource type property type names resolve in
	props map[string]Prop
	key   string // the definition name in the specification and goformation's schema
}

func (c *checker) typeShape(ns, name string) (shape, bool) {
	if t, ok := c.spec.PropertyTypes[ns+"."+name]; ok {
		return shape{ns: ns, props: t.Properties, key: ns + "." + name}, true
	}
	if t, ok := c.spec.PropertyTypes[name]; ok { // Tag
		return shape{ns: ns, props: t.Properties, key: name}, true
	}
	return shape{}, false
}

func (c *checker) checkObject(path string, v any, shapes []shape) {
	if isIntrinsic(v) {
		return
	}
	m, ok := v.(map[string]any)
	if !ok {
		c.problem(path, "want an object (%s), got %s", shapes[0].key, describe(v))
		return
	}
	if strings.HasSuffix(shapes[0].key, ".EventSource") {
		c.checkEvent(path, m, shapes[0])
		return
	}
	for _, name := range sortedKeys(shapes[0].props) {
		if _, set := m[name]; shapes[0].props[name].Required && !set {
			c.problem(path, "required property %s of %s is not set", name, shapes[0].key)
		}
	}
	for _, k := range sortedKeys(m) {
		c.checkProperty(path+"."+k, k, m[k], shapes)
	}
}

func (c *checker) checkProperty(path, name string, v any, shapes []shape) {
	for _, sh := range shapes {
		if p, ok := sh.props[name]; ok {
			c.checkValue(path, v, p, sh.ns)
			return
		}
	}
	for _, sh := range shapes {
		if c.spec.newer[sh.key][name] {
			if n := sh.key + "." + name; !slices.Contains(c.out.Newer, n) {
				c.out.Newer = append(c.out.Newer, n)
			}
			return
		}
	}
	c.problem(path, "%s has no property %s", shapes[0].key, name)
}

func (c *checker) checkEvent(path string, m map[string]any, sh shape) {
	typ, _ := m["Type"].(string)
	name, ok := samEvents[typ]
	if !ok {
		c.problem(path+".Type", "no SAM event type %q", m["Type"])
		return
	}
	ev, ok := c.typeShape(sh.ns, name)
	if !ok {
		c.problem(path+".Type", "%s events are not in the specification for %s", typ, sh.ns)
		return
	}
	shapes := []shape{ev}
	switch typ {
	case "SQS", "Kinesis", "DynamoDB":
		esm := "AWS::Lambda::EventSourceMapping"
		shapes = append(shapes, shape{ns: esm, props: c.spec.ResourceTypes[esm].Properties, key: esm})
	}
	c.checkObject(path+".Properties", m["Properties"], shapes)
	for k := range m {
		if k != "Type" && k != "Properties" {
			c.problem(path+"."+k, "a SAM event has only Type and Properties")
		}
	}
}

func (c *checker) checkValue(path string, v any, p Prop, ns string) {
	if isIntrinsic(v) {
		return
	}
	if v == nil {
		c.problem(path, "null value")
		return
	}
	switch {
	case len(p.InclusiveItemTypes) > 0: // SAM Policies: checked with the IAM rules
		return
	case len(p.PrimitiveTypes) > 0 || len(p.Types) > 0:
		c.checkOneOf(path, v, p, ns)
	case p.Type == "List":
		items, ok := v.([]any)
		if !ok {
			c.problem(path, "want a list, got %s", describe(v))
			return
		}
		for i, it := range items {
			c.checkItem(fmt.Sprintf("%s[%d]", path, i), it, p, ns)
		}
	case p.Type == "Map":
		m, ok := v.(map[string]any)
		if !ok {
			c.problem(path, "want a map, got %s", describe(v))
			return
		}
		for _, k := range sortedKeys(m) {
			c.checkItem(path+"."+k, m[k], p, ns)
		}
	case p.Type != "":
		sh, ok := c.typeShape(ns, p.Type)
		if !ok {
			c.problem(path, "the specification has no property type %s.%s", ns, p.Type)
			return
		}
		c.checkObject(path, v, []shape{sh})
	default:
		if msg := primitive(v, p.PrimitiveType); msg != "" {
			c.problem(path, "%s", msg)
		}
	}
}

func (c *checker) checkItem(path string, v any, p Prop, ns string) {
	if p.PrimitiveItemType != "" {
		if msg := primitive(v, p.PrimitiveItemType); msg != "" && !isIntrinsic(v) {
			c.problem(path, "%s", msg)
		}
		return
	}
	c.checkValue(path, v, Prop{Type: p.ItemType}, ns)
}

// checkOneOf checks a SAM property that takes one of several shapes.
func (c *checker) checkOneOf(path string, v any, p Prop, ns string) {
	for _, prim := range p.PrimitiveTypes {
		if primitive(v, prim) == "" {
			return
		}
	}
	var first []Problem
	for _, t := range p.Types {
		var probs []Problem
		saved := c.problems
		c.problems = &probs
		c.checkValue(path, v, Prop{Type: t}, ns)
		c.problems = saved
		if len(probs) == 0 {
			return
		}
		if first == nil {
			first = probs
		}
	}
	if first != nil {
		*c.problems = append(*c.problems, first...)
		return
	}
	c.problem(path, "want one of %v, got %s", append(p.PrimitiveTypes, p.Types...), describe(v))
}

// primitive checks a scalar the way CloudFormation converts them: any
// scalar is a String, numbers may be quoted.
func primitive(v any, typ string) string {
	switch typ {
	case "String", "Timestamp":
		switch v.(type) {
		case string, float64, bool:
			return ""
		}
	case "Integer", "Long", "Double":
		switch x := v.(type) {
		case float64:
			if typ == "Double" || x == float64(int64(x)) {
				return ""
			}
		case string:
			if _, err := strconv.ParseFloat(x, 64); err == nil {
				return ""
			}
		}
	case "Boolean":
		switch x := v.(type) {
		case bool:
			return ""
		case string:
			if x == "true" || x == "false" {
				return ""
			}
		}
	case "Json":
		switch v.(type) {
		case map[string]any, string:
			return ""
		}
	default:
		return ""
	}
	return fmt.Sprintf("want %s, got %s", typ, describe(v))
}

// walk checks every intrinsic function's target.
func (c *checker) walk(path string, v any) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				c.intrinsic(path, k, arg)
			}
		}
		for _, k := range sortedKeys(x) {
			c.walk(joinPath(path, k), x[k])
		}
	case []any:
		for i, it := range x {
			c.walk(fmt.Sprintf("%s[%d]", path, i), it)
		}
	}
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

func (c *checker) intrinsic(path, fn string, arg any) {
	switch fn {
	case "Ref":
		name, _ := arg.(string)
		if !c.params[name] && c.res[name] == "" && !pseudo[name] {
			c.problem(path, "Ref %q names no parameter, resource or pseudo parameter", arg)
		}
	case "Fn::GetAtt":
		var parts []string
		switch a := arg.(type) {
		case string:
			r, attr, _ := strings.Cut(a, ".")
			parts = []string{r, attr}
		case []any:
			for _, p := range a {
				s, _ := p.(string)
				parts = append(parts, s)
			}
		}
		if len(parts) != 2 {
			c.problem(path, "Fn::GetAtt wants [resource, attribute], got %v", arg)
			return
		}
		c.getAtt(path, parts[0], parts[1])
	case "Fn::Sub":
		var s string
		vars := map[string]any{}
		switch a := arg.(type) {
		case string:
			s = a
		case []any:
			if len(a) == 2 {
				s, _ = a[0].(string)
				vars = asMap(a[1])
			}
		}
		for _, m := range subVar.FindAllStringSubmatch(s, -1) {
			name := m[1]
			if strings.HasPrefix(name, "!") {
				continue // ${!Literal}
			}
			if _, ok := vars[name]; ok {
				continue
			}
			if r, attr, ok := strings.Cut(name, "."); ok && !pseudo[name] {
				c.getAtt(path, r, attr)
			} else if !c.params[name] && c.res[name] == "" && !pseudo[name] {
				c.problem(path, "Fn::Sub ${%s} names no parameter, resource or pseudo parameter", name)
			}
		}
	case "Fn::If":
		a := asList(arg)
		if len(a) != 3 {
			c.problem(path, "Fn::If wants [condition, then, else]")
		} else if name, _ := a[0].(string); !c.conds[name] {
			c.problem(path, "Fn::If names no condition %q", a[0])
		}
	case "Condition":
		if name, ok := arg.(string); ok && strings.HasPrefix(path, "Conditions.") && !c.conds[name] {
			c.problem(path, "no condition %q", name)
		}
	}
}

// samAttributes: SAM resources answer Fn::GetAtt with the attributes of the
// resource they generate.
var samAttributes = map[string]string{
	"AWS::Serverless::Function":     "AWS::Lambda::Function",
	"AWS::Serverless::StateMachine": "AWS::StepFunctions::StateMachine",
	"AWS::Serverless::SimpleTable":  "AWS::DynamoDB::Table",
	"AWS::Serverless::HttpApi":      "AWS::ApiGatewayV2::Api",
	"AWS::Serverless::Api":          "AWS::ApiGateway::RestApi",
	"AWS::Serverless::LayerVersion": "AWS::Lambda::LayerVersion",
}

func (c *checker) getAtt(path, res, attr string) {
	typ := c.res[res]
	if typ == "" {
		c.problem(path, "Fn::GetAtt %s.%s names no resource %s", res, attr, res)
		return
	}
	if t, ok := samAttributes[typ]; ok {
		typ = t
	}
	if _, ok := c.spec.ResourceTypes[typ].Attributes[attr]; !ok {
		c.problem(path, "Fn::GetAtt %s.%s: %s has no attribute %s", res, attr, typ, attr)
	}
}

// checkCode checks that a function's package is one `make lambdas` builds
// (dist/lambda/<system>-<name>.zip from examples/<system>/lambda/<name>)
// for the runtime and architecture it builds for.
func (c *checker) checkCode(path string, props map[string]any) {
	code, ok := props["CodeUri"].(string)
	if !ok {
		c.problem(path+".CodeUri", "want the path of a package `make lambdas` builds, got %s", describe(props["CodeUri"]))
		return
	}
	abs := filepath.Join(c.dir, code)
	rel, err := filepath.Rel(filepath.Join(c.root, "dist", "lambda"), abs)
	if err != nil || strings.Contains(rel, string(filepath.Separator)) || strings.HasPrefix(rel, "..") || !strings.HasSuffix(rel, ".zip") {
		c.problem(path+".CodeUri", "%s is not a package under dist/lambda (make lambdas)", code)
		return
	}
	if !slices.Contains(lambdaPackages(c.root), strings.TrimSuffix(rel, ".zip")) {
		c.problem(path+".CodeUri", "make lambdas builds no %s (no examples/<system>/lambda/<name>/main.go for it)", rel)
	}
	if props["Runtime"] != "provided.al2023" || props["Handler"] != "bootstrap" {
		c.problem(path, "Runtime %v, Handler %v: make lambdas builds a bootstrap for provided.al2023", props["Runtime"], props["Handler"])
	}
	if a := asList(props["Architectures"]); len(a) != 1 || a[0] != "arm64" {
		c.problem(path+".Architectures", "make lambdas builds for arm64, got %v", props["Architectures"])
	}
}

// lambdaPackages lists the packages `make lambdas` builds, by the same
// rule as internal/cmd/lambdas: <system>-<name> for every
// examples/<system>/lambda/<name>/main.go.
func lambdaPackages(root string) []string {
	mains, _ := filepath.Glob(filepath.Join(root, "examples", "*", "lambda", "*", "main.go"))
	var out []string
	for _, m := range mains {
		dir := filepath.Dir(m)
		out = append(out, filepath.Base(filepath.Dir(filepath.Dir(dir)))+"-"+filepath.Base(dir))
	}
	return out
}

func isIntrinsic(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::")
	}
	return false
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", x)
	case float64:
		return fmt.Sprintf("number %v", x)
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asList(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case nil:
		return nil
	}
	return []any{v}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// merge lays SAM's Globals under a resource's own properties: maps merge,
// the resource's values win.
func merge(global, own map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range global {
		out[k] = v
	}
	for k, v := range own {
		if gm, ok := out[k].(map[string]any); ok {
			if om, ok := v.(map[string]any); ok && !isIntrinsic(om) {
				out[k] = merge(gm, om)
				continue
			}
		}
		out[k] = v
	}
	return out
}
