#' lrtiers: linear regression by gradient descent with PyTorch, in five tiers
#'
#' [lr_fit()] fits a linear regression by gradient descent in one of the five
#' training tiers of the tutorials (pure NumPy, autograd, an optimizer, an
#' `nn.Module`, DataLoader mini-batches), through the Python core and
#' `reticulate`, and returns a plain R object with the methods of [stats::lm()]
#' fits. With the defaults it gives `lm()`'s answer; when a fit has not reached
#' it, every view of the fit says so. Nothing is imported when the package
#' loads: it declares its Python requirements to reticulate
#' (`reticulate::py_require()`), and the first fit starts Python, with an
#' environment reticulate provides when none is configured (see [lr_doctor()]).
#'
#' Vignettes: `vignette("conditioning", package = "lrtiers")`,
#' `vignette("rtorch-tutorial", package = "lrtiers")`,
#' `vignette("tiers", package = "lrtiers")`,
#' `vignette("reproducibility", package = "lrtiers")`.
#' @keywords internal
"_PACKAGE"

## usethis namespace: start
#' @importFrom stats coef confint fitted nobs predict residuals vcov formula
#' @importFrom stats sigma deviance logLik df.residual weights model.matrix model.frame
#' @importFrom stats variable.names hatvalues influence cooks.distance rstandard rstudent
#' @importFrom stats dfbeta anova extractAIC proj effects simulate
## usethis namespace: end
NULL

# ggplot2's .data pronoun in autoplot() (a data-mask name, not a variable)
utils::globalVariables(".data")
