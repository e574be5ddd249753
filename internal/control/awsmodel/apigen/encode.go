package main

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// wireImport is the runtime the generated encoders call.
const wireImport = "github.com/stagecast/stagecast/internal/model/wire"

// encoders generates encode_gen.go: an AppendJSON method for every
// structure shape, writing what encoding/json would (see
// wire.JSONAppender) without reflection.
func (g *gen) encoders() []byte {
	var body bytes.Buffer
	for _, n := range g.structs() {
		s := g.m.Shapes[n]
		var fields bytes.Buffer
		for _, mn := range members(s) {
			mem := s.Members[mn]
			if mem.Location == "uri" || mem.Location == "querystring" {
				continue // json:"-"
			}
			field := "s." + exported(mn)
			fmt.Fprintf(&fields, "if %s != nil {\n", field)
			fmt.Fprintf(&fields, "b = wire.AppendKey(b, start, `%s:`)\n", strconv.Quote(mn))
			expr := field
			if t := g.m.Shapes[mem.Shape].Type; t != "list" && t != "map" {
				expr = "*" + field
				if t == "structure" {
					expr = field
				}
			}
			g.appendValue(&fields, expr, mem.Shape, 1)
			fields.WriteString("}\n")
		}
		fmt.Fprintf(&body, "// AppendJSON appends s as JSON (see wire.JSONAppender).\n")
		fmt.Fprintf(&body, "func (s *%s) AppendJSON(b []byte) ([]byte, error) {\n", n)
		code := fields.String()
		if strings.Contains(code, "err)") || strings.Contains(code, "err =") {
			body.WriteString("var err error\n")
		}
		if code == "" {
			body.WriteString("return append(b, \"{}\"...), nil\n}\n\n")
			continue
		}
		body.WriteString("b = append(b, '{')\nstart := len(b)\n")
		body.WriteString(code)
		body.WriteString("return append(b, '}'), nil\n}\n\n")
	}
	var b bytes.Buffer
	g.header(&b, wireImport)
	b.Write(body.Bytes())
	return b.Bytes()
}

// appendValue writes code appending the value expr (not a pointer, except
// structures, whose AppendJSON takes one) of shape name. depth names loop
// variables apart.
func (g *gen) appendValue(w *bytes.Buffer, expr, name string, depth int) {
	s := g.m.Shapes[name]
	fail := "if err != nil {\nreturn b, err\n}\n"
	switch s.Type {
	case "structure":
		fmt.Fprintf(w, "b, err = %s.AppendJSON(b)\n%s", expr, fail)
	case "string":
		fmt.Fprintf(w, "b = wire.AppendString(b, %s)\n", expr)
	case "integer", "long":
		fmt.Fprintf(w, "b = wire.AppendInt(b, %s)\n", expr)
	case "float", "double":
		fmt.Fprintf(w, "b, err = wire.AppendFloat(b, %s)\n%s", expr, fail)
	case "boolean":
		fmt.Fprintf(w, "b = wire.AppendBool(b, %s)\n", expr)
	case "timestamp":
		fmt.Fprintf(w, "b, err = wire.AppendTime(b, %s)\n%s", expr, fail)
	case "list":
		if g.m.Shapes[s.Member.Shape].Type == "string" {
			fmt.Fprintf(w, "b = wire.AppendStrings(b, %s)\n", expr)
			return
		}
		i := fmt.Sprintf("i%d", depth)
		fmt.Fprintf(w, "if %s == nil {\nb = append(b, \"null\"...)\n} else {\n", expr)
		fmt.Fprintf(w, "b = append(b, '[')\nfor %s := range %s {\nif %s > 0 {\nb = append(b, ',')\n}\n", i, expr, i)
		g.appendValue(w, expr+"["+i+"]", s.Member.Shape, depth+1)
		w.WriteString("}\nb = append(b, ']')\n}\n")
	case "map":
		if g.m.Shapes[s.Value.Shape].Type != "string" {
			panic("apigen: maps of " + g.m.Shapes[s.Value.Shape].Type + " have no encoder (" + name + ")")
		}
		fmt.Fprintf(w, "b = wire.AppendStringMap(b, %s)\n", expr)
	default:
		panic("apigen: no encoder for shape type " + s.Type + " (" + name + ")")
	}
}

// encoderTests generates encode_gen_test.go, which holds every shape's
// AppendJSON to encoding/json's output (wiretest.CheckAppendJSON).
func (g *gen) encoderTests() []byte {
	var b bytes.Buffer
	g.header(&b, "testing", wireImport, wireImport+"/wiretest")
	b.WriteString("// TestAppendJSONMatchesEncodingJSON checks every shape's generated\n// encoder against encoding/json on random values.\n")
	b.WriteString("func TestAppendJSONMatchesEncodingJSON(t *testing.T) {\nt.Parallel()\nwiretest.CheckAppendJSON(t, []func() wire.JSONAppender{\n")
	for _, n := range g.structs() {
		fmt.Fprintf(&b, "func() wire.JSONAppender { return new(%s) },\n", n)
	}
	b.WriteString("})\n}\n")
	return b.Bytes()
}
