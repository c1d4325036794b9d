package report

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// WritePredictionsCSV writes predictions.csv: a header, then one row per
// sample and model with columns path, split, label, label_name, model,
// pred, pred_name, p_0 … p_{K-1}. Probabilities use the shortest decimal
// that reads back as the same float32, so metrics recomputed from the CSV
// match report.json exactly.
func WritePredictionsCSV(w io.Writer, r *Report) error {
	if r.Predictions == nil {
		return errors.New("report: no predictions to write")
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	cw := csv.NewWriter(bw)
	k := len(r.Classes)
	head := []string{"path", "split", "label", "label_name", "model", "pred", "pred_name"}
	for i := range k {
		head = append(head, "p_"+strconv.Itoa(i))
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	rec := make([]string, len(head))
	err := r.Predictions.Each(func(row PredictionRow) error {
		if len(row.Probs) != k {
			return fmt.Errorf("prediction for %s by %s has %d probabilities, want %d", row.Path, row.Model, len(row.Probs), k)
		}
		rec = rec[:0]
		rec = append(rec, ValidText(row.Path), ValidText(row.Split), strconv.Itoa(row.Label), ValidText(r.className(row.Label)),
			ValidText(row.Model), strconv.Itoa(row.Pred), ValidText(r.className(row.Pred)))
		for _, p := range row.Probs {
			rec = append(rec, strconv.FormatFloat(float64(p), 'g', -1, 32))
		}
		return cw.Write(rec)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}
