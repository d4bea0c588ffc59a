package deploycheck

import (
	"fmt"
	"sort"
	"strings"
)

type docKind int

const (
	identityPolicy docKind = iota // attached to a role: Resource required
	trustPolicy                   // a role's AssumeRolePolicyDocument: Principal, no Resource
	resourcePolicy                // a bucket, queue or topic policy: Principal and Resource
)

// checkPolicies finds the policy documents of a resource and checks them.
func (c *checker) checkPolicies(path, typ string, props map[string]any) {
	pp := path + ".Properties"
	switch typ {
	case "AWS::IAM::Role":
		c.checkDoc(pp+".AssumeRolePolicyDocument", props["AssumeRolePolicyDocument"], trustPolicy)
		for i, p := range asList(props["Policies"]) {
			c.checkDoc(fmt.Sprintf("%s.Policies[%d].PolicyDocument", pp, i), asMap(p)["PolicyDocument"], identityPolicy)
		}
	case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
		c.checkDoc(pp+".PolicyDocument", props["PolicyDocument"], identityPolicy)
	case "AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy":
		c.checkDoc(pp+".PolicyDocument", props["PolicyDocument"], resourcePolicy)
	case "AWS::Serverless::Function", "AWS::Serverless::StateMachine":
		c.checkSAMPolicies(pp+".Policies", typ, props["Policies"])
	}
}

// checkSAMPolicies: SAM's Policies is a managed policy name, a policy
// document, a SAM policy template, or a list of those.
func (c *checker) checkSAMPolicies(path, typ string, v any) {
	if v == nil {
		return
	}
	items, isList := v.([]any)
	if !isList {
		items = []any{v}
	}
	templates := c.spec.PropertyTypes[typ+".SAMPolicyTemplate"].Properties
	for i, it := range items {
		p := path
		if isList {
			p = fmt.Sprintf("%s[%d]", path, i)
		}
		switch x := it.(type) {
		case string:
			// An AWS managed policy by name: its statements are AWS's,
			// usually on "*"; write the statements out instead.
			c.problem(p, "managed policy %q: not checkable and rarely least privilege; write the statements", x)
		case map[string]any:
			if _, ok := x["Statement"]; ok {
				c.checkDoc(p, x, identityPolicy)
				continue
			}
			if len(x) != 1 {
				c.problem(p, "want a policy document or one SAM policy template")
				continue
			}
			for name := range x {
				if _, ok := templates[name]; !ok {
					c.problem(p, "no SAM policy template %q", name)
				}
			}
		default:
			c.problem(p, "want a policy, got %s", describe(it))
		}
	}
}

func (c *checker) checkDoc(path string, v any, kind docKind) {
	doc, ok := v.(map[string]any)
	if !ok {
		c.problem(path, "want a policy document, got %s", describe(v))
		return
	}
	if doc["Version"] != "2012-10-17" {
		c.problem(path+".Version", "want \"2012-10-17\", got %v", doc["Version"])
	}
	for i, st := range asList(doc["Statement"]) {
		c.checkStatement(fmt.Sprintf("%s.Statement[%d]", path, i), asMap(st), kind)
	}
	if doc["Statement"] == nil {
		c.problem(path, "no Statement")
	}
}

func (c *checker) checkStatement(path string, st map[string]any, kind docKind) {
	if e := st["Effect"]; e != "Allow" && e != "Deny" {
		c.problem(path+".Effect", "want Allow or Deny, got %v", e)
	}
	for _, k := range []string{"NotAction", "NotResource", "NotPrincipal"} {
		if _, ok := st[k]; ok {
			c.problem(path+"."+k, "%s grants everything it does not name", k)
		}
	}
	var actions []string
	for _, a := range asList(st["Action"]) {
		s, ok := a.(string)
		switch {
		case !ok:
			c.problem(path+".Action", "want an action name, got %s", describe(a))
		case strings.Contains(s, "*"):
			c.problem(path+".Action", "wildcard action %q: name the actions", s)
		default:
			if _, ok := c.spec.action(s); !ok {
				c.problem(path+".Action", "%q is not an action of service %q (IAM service reference)", s, strings.SplitN(s, ":", 2)[0])
				continue
			}
			actions = append(actions, s)
		}
	}
	if st["Action"] == nil {
		c.problem(path, "no Action")
	}
	_, hasPrincipal := st["Principal"]
	switch kind {
	case trustPolicy:
		if !hasPrincipal {
			c.problem(path, "a trust policy statement names a Principal")
		}
		if _, ok := st["Resource"]; ok {
			c.problem(path+".Resource", "a trust policy has no Resource")
		}
		return
	case resourcePolicy:
		if !hasPrincipal {
			c.problem(path, "a resource policy statement names a Principal")
		}
	case identityPolicy:
		if hasPrincipal {
			c.problem(path+".Principal", "an identity policy has no Principal")
		}
	}
	if st["Resource"] == nil {
		c.problem(path, "no Resource")
		return
	}
	c.checkResources(path+".Resource", actions, asList(st["Resource"]))
}

// checkResources: "*" only when every action takes no resource; an ARN of
// a service none of the actions acts on is a mistake (a queue URL from Ref,
// an s3: action on a Kinesis stream).
func (c *checker) checkResources(path string, actions []string, resources []any) {
	want := map[string]bool{}
	var scopable []string
	for _, a := range actions {
		svcs := c.spec.arnServicesOf(a)
		if len(svcs) > 0 {
			scopable = append(scopable, a)
		}
		for s := range svcs {
			want[s] = true
		}
	}
	for _, r := range resources {
		if r == "*" {
			if len(scopable) > 0 {
				c.problem(path, "Resource \"*\" for actions that can be scoped: %s", strings.Join(scopable, ", "))
			}
			continue
		}
		svc, how := c.arnService(r)
		if svc == "" {
			if how != "" {
				c.problem(path, "%s", how)
			}
			continue
		}
		if len(want) > 0 && !want[svc] {
			c.problem(path, "a %s resource (%s) for actions on %s", svc, how, strings.Join(sortedKeys(want), ", "))
		}
	}
}

// arnService tells which service's ARN a Resource entry is; "" when it
// cannot tell (a parameter, an imported value). how says where it came
// from, or, with svc "", why the entry is not an ARN.
func (c *checker) arnService(r any) (svc, how string) {
	switch x := r.(type) {
	case string:
		return arnPrefixService(x), x
	case map[string]any:
		if s, ok := x["Fn::Sub"]; ok {
			if l, ok := s.([]any); ok && len(l) > 0 {
				s = l[0]
			}
			str, _ := s.(string)
			if strings.HasPrefix(str, "arn:") {
				return arnPrefixService(str), str
			}
			if m := subVar.FindStringSubmatch(str); m != nil && strings.HasPrefix(str, m[0]) {
				if res, attr, ok := strings.Cut(m[1], "."); ok && attr == "Arn" {
					return serviceOfType(c.res[res]), str
				}
			}
			return "", ""
		}
		if a, ok := x["Fn::GetAtt"]; ok {
			var res, attr string
			switch g := a.(type) {
			case string:
				res, attr, _ = strings.Cut(g, ".")
			case []any:
				if len(g) == 2 {
					res, _ = g[0].(string)
					attr, _ = g[1].(string)
				}
			}
			if attr == "Arn" {
				return serviceOfType(c.res[res]), "!GetAtt " + res + ".Arn"
			}
			return "", ""
		}
		if ref, ok := x["Ref"].(string); ok {
			typ := c.res[ref]
			if typ == "" { // a parameter or pseudo parameter
				return "", ""
			}
			if refIsArn[typ] {
				return serviceOfType(typ), "!Ref " + ref
			}
			return "", fmt.Sprintf("!Ref %s is not an ARN (Ref of %s gives its name or URL): use !GetAtt %s.Arn", ref, typ, ref)
		}
	}
	return "", ""
}

// refIsArn: the resource types whose Ref is their ARN.
var refIsArn = map[string]bool{"AWS::SNS::Topic": true, "AWS::StepFunctions::StateMachine": true,
	"AWS::Serverless::StateMachine": true, "AWS::IAM::ManagedPolicy": true}

func arnPrefixService(s string) string {
	if !strings.HasPrefix(s, "arn:") {
		return ""
	}
	// arn:${AWS::Partition}:service:… — the partition may be a ${} variable.
	rest := strings.TrimPrefix(s, "arn:")
	if strings.HasPrefix(rest, "${") {
		if i := strings.Index(rest, "}"); i >= 0 {
			rest = rest[i+1:]
		}
	} else if i := strings.Index(rest, ":"); i >= 0 {
		rest = rest[i:]
	}
	parts := strings.SplitN(strings.TrimPrefix(rest, ":"), ":", 2)
	return parts[0]
}

var typeServices = map[string]string{"KinesisFirehose": "firehose", "StepFunctions": "states", "Logs": "logs",
	"ApiGatewayV2": "apigateway", "ApiGateway": "apigateway", "Events": "events", "KinesisVideo": "kinesisvideo"}

func serviceOfType(typ string) string {
	parts := strings.Split(typ, "::")
	if len(parts) != 3 {
		return ""
	}
	if parts[1] == "Serverless" {
		switch parts[2] {
		case "Function", "LayerVersion":
			return "lambda"
		case "StateMachine":
			return "states"
		case "SimpleTable":
			return "dynamodb"
		}
		return ""
	}
	if s, ok := typeServices[parts[1]]; ok {
		return s
	}
	return strings.ToLower(parts[1])
}

// Types counts a template's resources per type, for the report.
func (r *Result) Types() string {
	n := map[string]int{}
	for _, t := range r.Resources {
		n[strings.TrimPrefix(t, "AWS::")]++
	}
	keys := sortedKeys(n)
	sort.Slice(keys, func(i, j int) bool { return n[keys[i]] > n[keys[j]] || n[keys[i]] == n[keys[j]] && keys[i] < keys[j] })
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d %s", n[k], k)
	}
	return b.String()
}
