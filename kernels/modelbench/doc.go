// Package modelbench holds whole-model inference benchmarks: the study's
// seed-cnn (80x80x3, four conv3x3 → maxpool → relu blocks, FC256, FC30,
// softmax) as float32 and as its int8 post-training quantization, run
// through package interp one sample at a time. It lives apart from package
// kernels so the kernel tests do not depend on the training and
// quantization packages. It has no non-test code.
package modelbench
