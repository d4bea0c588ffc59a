package main

// system4 runs seed system 4; nil until it is built.
var system4 runner
