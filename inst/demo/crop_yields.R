# `make demo`, the R half: the crop-yields fit from R, and the same fit in a separate
# Python process, with the same numbers. Run from anywhere:
#   Rscript inst/demo/crop_yields.R
suppressPackageStartupMessages(library(lrtiers))

settings <- list(tier = "module", epochs = 2000, standardize = TRUE, seed = 2024)
cat("Crop yields (15 regions): cbind(apples, oranges) ~ temp + rainfall + humidity\n\n")
fit <- eval(bquote(lr_fit(cbind(apples, oranges) ~ temp + rainfall + humidity,
  data = crop_yields, tier = .(settings$tier), epochs = .(settings$epochs),
  standardize = TRUE, seed = .(settings$seed)
)))
print(summary(fit))

new_region <- data.frame(temp = 75, rainfall = 63, humidity = 44)
r_pred <- predict(fit, newdata = new_region)
ols <- predict(lm(cbind(apples, oranges) ~ temp + rainfall + humidity, data = crop_yields),
  newdata = new_region)

# The same fit by a Python user, in a separate Python process.
python <- reticulate::py_config()$python
script <- tempfile(fileext = ".py")
writeLines(c(
  "import json, lrtiers",
  "x, y = lrtiers.datasets.crop_yields()",
  sprintf(
    "fit = lrtiers.lr_fit(x, y, tier='%s', epochs=%d, standardize=True, seed=%d)",
    settings$tier, settings$epochs, settings$seed
  ),
  "pred = fit.predict(list(lrtiers.datasets.NEW_REGION))",
  "print(json.dumps({'pred': pred.ravel().tolist(), 'weight': fit.weight.ravel().tolist(),",
  "                  'bias': fit.bias.tolist(), 'loss': fit.loss}))"
), script)
# the core as this R session found it: installed in that Python, or bundled with the package
core_dir <- dirname(lr_doctor()$core_path)
out <- system2(python, shQuote(script), stdout = TRUE,
  env = sprintf("PYTHONPATH=%s", shQuote(core_dir)))
py <- jsonlite::parse_json(out[length(out)], simplifyVector = TRUE)

cat("\nPredicted yields for the new region (temp 75, rainfall 63, humidity 44):\n")
table <- rbind(
  "R    lr_fit()" = r_pred[1, ],
  "Python lr_fit()" = py$pred,
  "R    lm()" = ols[1, ]
)
print(format(as.data.frame(table), digits = 10))
same <- identical(unname(r_pred[1, ]), py$pred) &&
  identical(unname(as.vector(coef(fit)[-1, ])), py$weight) && # weight (q, p), row-major
  identical(unname(coef(fit)[1, ]), py$bias) && identical(fit$loss, py$loss)
cat(sprintf(
  "\nR and Python (%s, torch %s): %s\n", python, lr_doctor()$versions[["torch"]],
  if (same) "identical coefficients, loss and predictions, bit for bit" else "DIFFERENT"
))
if (!same) quit(status = 1)
