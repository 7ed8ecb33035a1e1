package extract

import "context"

type yieldKey struct{}

// WithYield returns a context carrying yield, which long native work (a
// language model's token loop) calls between steps so that more urgent
// work, such as speech recognition, can take the compute lane.
func WithYield(ctx context.Context, yield func(context.Context) error) context.Context {
	return context.WithValue(ctx, yieldKey{}, yield)
}

// Yield calls the yield function ctx carries, if any.
func Yield(ctx context.Context) error {
	if y, ok := ctx.Value(yieldKey{}).(func(context.Context) error); ok {
		return y(ctx)
	}
	return nil
}
