package etl

import (
	"context"
	"encoding/json"
	"strings"
	"sync"

	"github.com/lakekit/lakekit/internal/awstest"
)

// LocalGlue is an in-memory Glue Data Catalog for the local runner and the
// tests, served over the real AWS JSON 1.1 protocol by an awstest
// WireServer: tables by database.name and their partitions.
type LocalGlue struct {
	mu         sync.Mutex
	Tables     map[string]json.RawMessage
	Partitions map[string][]string // database.table → values joined by "/"
}

// Install registers GetTable, CreateTable, UpdateTable and
// BatchCreatePartition on w.
func (g *LocalGlue) Install(w *awstest.WireServer) {
	g.Tables = map[string]json.RawMessage{}
	g.Partitions = map[string][]string{}
	type req struct {
		DatabaseName, Name, TableName string
		TableInput                    json.RawMessage
		PartitionInputList            []struct{ Values []string }
	}
	parse := func(body json.RawMessage) (req, string, error) {
		var r req
		err := json.Unmarshal(body, &r)
		name := r.Name
		if r.TableInput != nil {
			var ti struct{ Name string }
			_ = json.Unmarshal(r.TableInput, &ti)
			name = ti.Name
		}
		if r.TableName != "" {
			name = r.TableName
		}
		return r, r.DatabaseName + "." + name, err
	}
	notFound := &awstest.APIError{Code: "EntityNotFoundException", Message: "Table not found."}
	w.HandleJSON("GetTable", func(_ context.Context, body json.RawMessage) (any, error) {
		_, key, err := parse(body)
		if err != nil {
			return nil, err
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		t, ok := g.Tables[key]
		if !ok {
			return nil, notFound
		}
		return map[string]json.RawMessage{"Table": t}, nil
	})
	put := func(create bool) awstest.JSONHandler {
		return func(_ context.Context, body json.RawMessage) (any, error) {
			r, key, err := parse(body)
			if err != nil {
				return nil, err
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			if _, ok := g.Tables[key]; ok == create {
				if create {
					return nil, &awstest.APIError{Code: "AlreadyExistsException", Message: "Table already exists."}
				}
				return nil, notFound
			}
			g.Tables[key] = r.TableInput
			return struct{}{}, nil
		}
	}
	w.HandleJSON("CreateTable", put(true))
	w.HandleJSON("UpdateTable", put(false))
	w.HandleJSON("BatchCreatePartition", func(_ context.Context, body json.RawMessage) (any, error) {
		r, key, err := parse(body)
		if err != nil {
			return nil, err
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		if _, ok := g.Tables[key]; !ok {
			return nil, notFound
		}
		var errs []any
	next:
		for _, p := range r.PartitionInputList {
			v := strings.Join(p.Values, "/")
			for _, have := range g.Partitions[key] {
				if have == v {
					errs = append(errs, map[string]any{"PartitionValues": p.Values,
						"ErrorDetail": map[string]string{"ErrorCode": "AlreadyExistsException", "ErrorMessage": "Partition already exists."}})
					continue next
				}
			}
			g.Partitions[key] = append(g.Partitions[key], v)
		}
		return map[string]any{"Errors": errs}, nil
	})
}

// Columns returns a table's columns as "name type".
func (g *LocalGlue) Columns(key string) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var t struct {
		StorageDescriptor struct{ Columns []struct{ Name, Type string } }
	}
	_ = json.Unmarshal(g.Tables[key], &t)
	var out []string
	for _, c := range t.StorageDescriptor.Columns {
		out = append(out, c.Name+" "+c.Type)
	}
	return out
}
