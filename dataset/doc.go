// Package dataset reads labelled image datasets (class folders, recordings,
// GTSRB), splits them without leaking objects across splits, and streams
// them through the preprocessing a model expects, in bounded memory.
//
// # Core API
//
//	d, err := dataset.Open(root, dataset.OpenOptions{})        // paths + labels, no pixels
//	train, val := d.SplitByTrack(0.2, seed)                     // or d.Split("verification"),
//	                                                            // d.SplitByRecording([]string{"rec3"})
//	small := d.Subsample(1000, seed)                            // stratified, deterministic
//	spec := dataset.DefaultSpec(80, 80)                         // or dataset.SpecFromGraph(g)
//	sum, err := dataset.Stream(ctx, d.Samples, spec, dataset.StreamOptions{Workers: 2},
//		func(it dataset.Item) error { use(it.Data, it.Sample.Label); return nil })
//	sum, err = dataset.Batches(ctx, d.Samples, spec, opts, 32, func(b dataset.Batch) error {...})
//	rep, err := dataset.Inspect(ctx, d, opts)                   // counts, sizes, formats, problems
//
// A Preprocessor applies a Spec to one decoded image with reusable buffers
// (one per goroutine); ReadImageFile and DecodeImage decode any supported
// format with a pixel limit checked before allocation. Package
// dataset/synth generates a synthetic dataset in this format.
//
// Stream calls its callback sequentially in sample order whatever the worker
// count, so results are deterministic. Item.Data is reused after the
// callback returns unless StreamOptions.Fresh is set. A corrupt image is
// skipped and reported in Summary (path and reason), or fatal with Strict.
// For int8/uint8 models, QuantizeInt8/QuantizeUint8 map the float input to
// the model's input quantization.
//
// # Layouts
//
// Open looks at most two folders deep and recognises, per file:
//
//	root/<folder>/<image>                 class folders      (Layout "folders")
//	root/<recording>/<folder>/<image>     recordings         (Layout "recordings")
//	root/<image> + root/*.csv (ClassId)   GTSRB test layout  (Layout "gtsrb-test")
//	root/<image> + ground truth [+ synsets] ImageNet validation (Layout "imagenet")
//	list.csv (Open given the file)        CSV manifest       (Layout "manifest")
//
// A CSV manifest lists path,label[,split] per line, or any columns under a
// header naming a path, a label, optionally a split and ROI columns; labels
// are class names or ids, paths relative to the manifest's folder, and each
// split value is a recording and a split. An ImageNet-style folder holds
// images only; OpenOptions.GroundTruth (or ground_truth.txt, val.txt,
// val_labels.txt, LOC_val_solution.csv beside it) gives a class id or
// synset id per image in file-name order, or "file label" lines, and
// OpenOptions.Synsets (or synset_words.txt, synsets.txt,
// LOC_synset_mapping.txt) names class i on line i.
//
// Images are png, jpg/jpeg, ppm/pgm (binary), bmp and webp, detected by
// content. Hidden files and folders are skipped. CSV files under root are
// read as GTSRB annotations: the official ';'-separated GT-xxxxx.csv (per
// class folder) and test CSV, and Kaggle-style Train.csv/Test.csv with a
// Path column; they give each image an ROI ([X1,X2) x [Y1,Y2)) and, for the
// test layout, its class. A file name ending in TTTTT_FFFFF (GTSRB track and
// frame) gives the sample a Track "<recording>/<folder>/<TTTTT>", which
// SplitByTrack keeps on one side.
//
// # Label maps
//
// Without a label map each folder is a class, in sorted order (numeric order
// when all folder names are numbers). A label map is found at
// OpenOptions.LabelMap, else root/labels.yaml|labels.yml|labels.json|
// labels.txt, else labels.txt in root's parent (so gtsrb-mini/train and
// gtsrb-mini/val share gtsrb-mini/labels.txt). labels.txt has one class
// name per line, line i = class i; folders named by number ("00".."42") map
// to that class id. The YAML (or JSON) form:
//
//	classes:            # class names, id = position (required unless the map defines only splits:/ignore:)
//	  - CROSSWALK
//	  - STOPLINE
//	  - NSPEEDLIMIT
//	folders:            # optional: folder name -> class name (many to one)
//	  Speed20EndSigns: NSPEEDLIMIT
//	  Speed30EndSigns: NSPEEDLIMIT
//	splits:             # optional: split name -> recordings
//	  train: [rec1, rec2]
//	  verification: [rec3]
//	ignore: [junk]      # optional: folders deliberately not used
//	outputs: [STOPLINE, CROSSWALK, NSPEEDLIMIT]  # optional: a model's output order
//
// A map with only splits: (and ignore:) takes the classes from the folders,
// as without a map. A folder not in folders: maps to the class of the same name, or to the
// class id its name spells. Open reports, as Problems (or errors with
// Strict): a folder no class claims (unknown-folder), a folders: entry naming
// a folder that does not exist (missing-folder), a class without images
// (empty-class), a split naming a recording without images
// (missing-recording), a recording in no split (unsplit-recording),
// identical files (duplicate, with CheckDuplicates) and bad CSV rows
// (annotation). A folder without any image is an error (ErrNoImages).
//
// # Classes of a model
//
// MatchModel (MatchOutputs) relabels a dataset for a classifier: by name
// against the class names the model carries (ModelClasses), else folders
// named by number as output indices, else the label map's order, else the
// sorted folders (reported). Images of folders matching no output are left
// out and named in ClassMatch.Warnings, as are outputs without images.
//
// # Preprocessing
//
// Spec is the one description of decode → optional ROI crop → resize →
// channel order → scaling, stored with a model (Spec.Store, SpecFromGraph)
// so training and evaluation cannot disagree. Its JSON form:
//
//	{"version":1,"height":80,"width":80,"channels":3,"channel_order":"RGB",
//	 "resize":"bilinear","crop":"roi","scale":0.003921569,"offset":0}
//
// optionally with "mean":[..],"std":[..] per channel instead of scale and
// offset. See Spec for the resize default and why.
package dataset
