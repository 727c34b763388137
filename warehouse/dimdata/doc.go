// Package dimdata holds the project's copy of the real dimension data — China's 12-digit statistical
// division codes for the supported cities and Chengdu's 230-service catalogue — embedded in the
// binary, and parses it into typed records. It assigns every service a category by ordered keyword
// rules. It does no I/O beyond its embedded files and knows nothing of ClickHouse.
package dimdata
