package main

// system1 runs seed system 1; nil until it is built.
var system1 runner
