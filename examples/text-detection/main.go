// Command text-detection runs seed system 2 locally: the /detecttext API
// of package textapi and a web page that replaces the seed's React Native
// app (pick or drop an image, name it, submit, see the detected lines
// boxed over the image).
//
//	go run ./examples/text-detection -local                  # sample Rekognition answers
//	go run -tags tesseract ./examples/text-detection -local  # reads images with Tesseract
//
// It uses an in-process S3 and, when built with -tags tesseract, the
// Tesseract backend; otherwise a local Rekognition wire server answering
// DetectText with the documented sample. The deployed Lambda is
// ./lambda/detecttext (template.yaml).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/lakekit/lakekit/examples/text-detection/textapi"
)

func main() {
	local := flag.Bool("local", false, "serve the API and web page locally")
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	origins := flag.String("allow-origin", "", "comma-separated origins allowed to call the API from another site (CORS); default none: the page's own origin only")
	flag.Parse()
	if !*local {
		fmt.Fprintln(os.Stderr, "usage: text-detection -local [-addr 127.0.0.1:8080]  (the Lambda is ./lambda/detecttext)")
		os.Exit(2)
	}
	if err := runLocal(context.Background(), *addr, os.Stdout, textapi.ParseOrigins(*origins)...); err != nil {
		log.Fatal(err)
	}
}
