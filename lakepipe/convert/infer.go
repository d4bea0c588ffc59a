package convert

import "io"

// Infer reads the start of r that Convert would sample (SampleRows
// records, SampleBytes bytes) and returns the header and column types
// Convert would infer from it, without converting anything: what a
// Converter without a Mapping would write. Only the sampling options
// matter (Header, Delimiter, SampleRows, SampleBytes, MaxRecordBytes); a
// Mapping is ignored. An input without records gives an empty Inference.
// Errors are NewConverter's *OptionError, *RecordTooLongError, a
// *SchemaError for a header record that does not parse, or the reader's.
func Infer(r io.Reader, optFns ...func(*ConverterOptions)) (*Inference, error) {
	c, err := NewConverter(nil, optFns...)
	if err != nil {
		return nil, err
	}
	c.opts.Mapping = nil
	run := &conversion{c: c}
	smp, err := run.readSample(r)
	if err != nil {
		return nil, err
	}
	smp.parseRecords(c.opts.SampleRows, c.opts.Delimiter)
	if len(smp.records) == 0 {
		return &Inference{}, nil
	}
	res := &Result{}
	if _, err := run.inferSchema(smp, res); err != nil {
		return nil, err
	}
	return res.Inference, nil
}
