// Package logging builds the one *zap.Logger that joinhintd's main creates and
// passes down to every part of the program.
//
// It offers four formats: json (zap's production JSON encoder), console (zap's
// development console encoder, for a person at a terminal), journal (one
// key=value line per event with an sd-daemon priority prefix, for systemd's
// journal; see NewJournalEncoder) and auto, which picks one of the other three
// from where stderr leads. The package keeps no global logger and no package
// state: zap.L and zap.ReplaceGlobals are not used.
package logging
