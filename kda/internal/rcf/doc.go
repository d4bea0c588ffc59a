// Package rcf is a streaming robust random cut forest (Guha, Mishra, Roy,
// Schrijvers, "Robust Random Cut Forest Based Anomaly Detection on
// Streams", ICML 2016), the model behind Kinesis Data Analytics'
// RANDOM_CUT_FOREST and RANDOM_CUT_FOREST_WITH_EXPLANATION.
//
// A Forest holds Trees random cut trees. Each tree keeps its own sample
// of at most SampleSize points, chosen by a time-decayed reservoir: the
// record seen at time t (the count of records before it) gets the weight
// -t/TimeDecay + log(-log u) for a uniform u, and a tree keeps the
// SampleSize points of smallest weight, so that recent records are more
// likely to be kept and a record's chance decays exponentially with its
// age. A point enters a tree by the paper's insertion (a cut drawn over
// the box extended by the point, its dimension chosen in proportion to
// the extended ranges, separates the point there or the descent goes on
// along the node's own cut) and leaves it by deletion (its sibling takes
// its parent's place; masses and bounding boxes are recomputed up to the
// root), so each tree stays distributed as a random cut tree on its
// sample.
//
// The score of a point is its collusive displacement (CoDisp) in
// expectation over the random cut that would insert it, averaged over
// the trees: going down from the root, the point is cut off at a node
// with probability (growth of the box's ranges)/(extended ranges), and
// once cut off beside a subtree of mass m under ancestors whose path
// children c have siblings s, its CoDisp is max(m, mass(s)/(mass(c)+1)).
// The score is computed before the point is added, as KDA documents.
// Each term's probability is a sum over the dimensions whose range the
// point extends, above or below the box; splitting the terms that way
// gives each input dimension a high and a low attribution whose sum over
// the dimensions is the score (a duplicate of a stored point, which no
// cut separates, spreads its part evenly).
//
// Randomness is a seeded SplitMix64 per tree for the cuts and a hash of
// (seed, tree, time) for the reservoir's u, so the same seed and input
// give the same scores, and AppendState/Restore carry a forest across
// processes: a restored forest's scores are bit-identical to the
// original's from then on.
package rcf
