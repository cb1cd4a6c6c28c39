library(testthat)
library(lrtiers)

test_check("lrtiers")
