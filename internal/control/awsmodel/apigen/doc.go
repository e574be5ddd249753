// Command apigen generates Go shapes, validation, reflection-free JSON
// encoders (with the test that holds them to encoding/json) and the
// operation table of one IVS service from its embedded botocore model. It is run by
// `go generate` in internal/model/ivsapi and internal/model/rtapi:
//
//	go run ../../control/awsmodel/apigen -service ivs -pkg ivsapi
//
// Generated files are long by nature (one type per model shape); they are
// exempt from the 800-line guideline.
package main
