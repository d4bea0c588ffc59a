package main

// system3 runs seed system 3; nil until it is built.
var system3 runner
