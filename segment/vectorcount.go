package segment

// VectorCount returns the number of live slots that have a vector of
// vector space name (0 for an unknown name).
func (s *Segment) VectorCount(name string) int {
	sp, err := s.space(name)
	if err != nil {
		return 0
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return int(sp.hasBM.GetCardinality())
}
