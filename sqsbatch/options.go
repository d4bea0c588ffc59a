package sqsbatch

import (
	"github.com/lakekit/lakekit/internal/opt"
)

// OptionError is the error every constructor of this package returns for an
// options field it cannot honour (a negative count, a value above a service
// limit, two fields that contradict each other). It names the options type,
// the field, the value and what is accepted; match it with errors.As.
type OptionError = opt.Error
