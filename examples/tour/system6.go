package main

// system6 runs seed system 6; nil until it is built.
var system6 runner
