package deploycheck

import (
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

const repoRoot = "../.."

var (
	specOnce sync.Once
	spec     *Spec
	specErr  error
)

func loadSpec(t *testing.T) *Spec {
	t.Helper()
	specOnce.Do(func() { spec, specErr = LoadSpec(filepath.Join("node", "node_modules")) })
	if specErr != nil {
		t.Fatal(specErr)
	}
	return spec
}

// templates lists every SAM/CloudFormation template of the repository.
func templates(t *testing.T) []string {
	var out []string
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata" || d.Name() == "dist" || strings.HasPrefix(d.Name(), ".")) && path != repoRoot {
			return filepath.SkipDir
		}
		if !d.IsDir() && (d.Name() == "template.yaml" || strings.HasSuffix(d.Name(), ".template.yaml")) {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTemplates checks every template in the repository and prints the
// table: template, resources, result.
func TestTemplates(t *testing.T) {
	s := loadSpec(t)
	paths := templates(t)
	if len(paths) < 7 {
		t.Fatalf("found %d templates, want every system's: %v", len(paths), paths)
	}
	var table strings.Builder
	table.WriteString("| template | resources | result |\n|---|---|---|\n")
	for _, p := range paths {
		res, err := s.Check(p, repoRoot)
		if err != nil {
			t.Fatal(err)
		}
		result := "ok"
		if !res.OK() {
			result = "REFUSED: " + res.Problems[0].String()
		}
		if len(res.Newer) > 0 {
			result += " (" + strings.Join(res.Newer, ", ") + ": newer than cfnspec " + s.Version + ", found in goformation's schema)"
		}
		table.WriteString("| " + res.Template + " | " + strconv.Itoa(len(res.Resources)) + ": " + res.Types() + " | " + result + " |\n")
		for _, pr := range res.Problems {
			t.Errorf("%s: %s", res.Template, pr)
		}
	}
	t.Log("\n" + table.String())
}

// TestBrokenTemplate: a template with one of each mistake is refused, each
// with its message.
func TestBrokenTemplate(t *testing.T) {
	s := loadSpec(t)
	res, err := s.Check(filepath.Join("testdata", "broken.template.yaml"), repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`Resources.Bucket.Type: no resource type "AWS::S3::Bukket" in the CloudFormation specification`,
		`Resources.Queue.Properties.VisibilityTimeOut: AWS::SQS::Queue has no property VisibilityTimeOut`,
		`Resources.Queue.Properties.MessageRetentionPeriod: want Integer, got string "two weeks"`,
		// goformation's typed parse stops at its first error, which
		// depends on map order: the string period, or the Ref it cannot
		// resolve.
		`(goformation): json: `,
		`Resources.Table.Properties: required property KeySchema of AWS::DynamoDB::Table is not set`,
		`Resources.Fn.Properties.Environment.Variables.QUEUE: Ref "Queu" names no parameter, resource or pseudo parameter`,
		`Resources.Fn.Properties.Environment.Variables.TABLE: Fn::GetAtt Table.Nmae: AWS::DynamoDB::Table has no attribute Nmae`,
		`Resources.Fn.Properties.Environment.Variables.OUT: Fn::Sub ${OutBucket} names no parameter, resource or pseudo parameter`,
		`Resources.Fn.Properties.Policies[0].Statement[0].Action: wildcard action "sqs:*": name the actions`,
		`Resources.Fn.Properties.Policies[0].Statement[1].Action: "sqs:SendMessages" is not an action of service "sqs" (IAM service reference)`,
		`Resources.Fn.Properties.Policies[0].Statement[2].Resource: Resource "*" for actions that can be scoped: dynamodb:PutItem`,
		`Resources.Fn.Properties.Policies[0].Statement[3].Resource: !Ref Queue is not an ARN (Ref of AWS::SQS::Queue gives its name or URL): use !GetAtt Queue.Arn`,
		`Resources.Fn.Properties.CodeUri: make lambdas builds no sqs-dedup-reader.zip (no examples/<system>/lambda/<name>/main.go for it)`,
		`Resources.Fn.Properties.Events.Rows.Properties.BatchSise: AWS::Serverless::Function.SQSEvent has no property BatchSise`,
	}
	got := map[string]bool{}
	for _, p := range res.Problems {
		got[p.String()] = true
	}
	for _, w := range want {
		found := false
		for g := range got {
			if strings.HasPrefix(g, w) {
				found = true
				delete(got, g)
				break
			}
		}
		if !found {
			t.Errorf("missing problem %q", w)
		}
	}
	for g := range got {
		t.Errorf("unexpected problem %q", g)
	}
	if !t.Failed() {
		t.Logf("testdata/broken.template.yaml refused with %d problems:\n%s", len(res.Problems), joinProblems(res.Problems))
	}
}

func joinProblems(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}
