package main

// system7 runs seed system 7; nil until it is built.
var system7 runner
